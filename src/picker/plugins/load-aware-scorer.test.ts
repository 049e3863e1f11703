import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { Scorer } from '../framework/types.js'
import { createPlugin, makeEndpoint, makeRequest } from './contract/fixtures.js'
import { scorerContract } from './contract/scorer-contract.js'
import { loadAwareScorer } from './load-aware-scorer.js'

scorerContract(() => createPlugin(loadAwareScorer))

describe('load-aware-scorer', () => {
  it('gives 0.5 when idle, 0.5·(1 − q/threshold) under load, 0 at or past the threshold', () => {
    const eps = [0, 10, 20, 25].map((q, i) => makeEndpoint(`p${i}`, { waitingQueueSize: q }))
    const s = createPlugin<Scorer>(loadAwareScorer, { threshold: 20 }).score(new CycleState(), makeRequest(), eps)
    expect(eps.map((e) => s.get(e))).toEqual([0.5, 0.25, 0, 0])
  })
  it('defaults threshold to 128', () => {
    expect(loadAwareScorer.parameters.parse({})).toEqual({ threshold: 128 })
  })
})
