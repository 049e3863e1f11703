import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { Scorer } from '../framework/types.js'
import { createPlugin, makeEndpoint, makeRequest } from './contract/fixtures.js'
import { scorerContract } from './contract/scorer-contract.js'
import { runningRequestsSizeScorer } from './running-requests-size-scorer.js'

scorerContract(() => createPlugin(runningRequestsSizeScorer))

describe('running-requests-size-scorer', () => {
  it('min-max normalises running requests', () => {
    const eps = [makeEndpoint('a', { runningRequestsSize: 2 }), makeEndpoint('b', { runningRequestsSize: 6 }), makeEndpoint('c', { runningRequestsSize: 4 })]
    const s = createPlugin<Scorer>(runningRequestsSizeScorer).score(new CycleState(), makeRequest(), eps)
    expect(eps.map((e) => s.get(e))).toEqual([1, 0, 0.5])
  })
})
