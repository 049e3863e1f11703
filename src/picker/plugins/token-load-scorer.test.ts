import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { Scorer } from '../framework/types.js'
import { createPlugin, makeEndpoint, makeRequest } from './contract/fixtures.js'
import { scorerContract } from './contract/scorer-contract.js'
import { tokenLoadScorer } from './token-load-scorer.js'

scorerContract(() => createPlugin(tokenLoadScorer))

describe('token-load-scorer', () => {
  it('scores 1 − min(1, inFlightTokens/threshold)', () => {
    const eps = [0, 500, 1000, 5000].map((t, i) => makeEndpoint(`p${i}`, {}, { inFlightTokens: t }))
    const s = createPlugin<Scorer>(tokenLoadScorer, { queueThresholdTokens: 1000 }).score(new CycleState(), makeRequest(), eps)
    expect(eps.map((e) => s.get(e))).toEqual([1, 0.5, 0, 0])
  })
})
