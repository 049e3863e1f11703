import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { Scorer } from '../framework/types.js'
import { createPlugin, makeEndpoint, makeRequest } from './contract/fixtures.js'
import { scorerContract } from './contract/scorer-contract.js'
import { queueScorer } from './queue-scorer.js'

scorerContract(() => createPlugin(queueScorer))

describe('queue-scorer', () => {
  it('min-max normalises the waiting queue: (max − q)/(max − min)', () => {
    const eps = [makeEndpoint('a', { waitingQueueSize: 0 }), makeEndpoint('b', { waitingQueueSize: 5 }), makeEndpoint('c', { waitingQueueSize: 10 })]
    const s = createPlugin<Scorer>(queueScorer).score(new CycleState(), makeRequest(), eps)
    expect(eps.map((e) => s.get(e))).toEqual([1, 0.5, 0])
  })
  it('scores 1.0 for all when queues are equal', () => {
    const eps = [makeEndpoint('a', { waitingQueueSize: 4 }), makeEndpoint('b', { waitingQueueSize: 4 })]
    const s = createPlugin<Scorer>(queueScorer).score(new CycleState(), makeRequest(), eps)
    expect(eps.map((e) => s.get(e))).toEqual([1, 1])
  })
  it('rejects parameters', () => {
    expect(queueScorer.parameters.safeParse({ threshold: 1 }).success).toBe(false)
  })
})
