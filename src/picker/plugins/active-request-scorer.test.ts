import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { Scorer } from '../framework/types.js'
import { activeRequestScorer } from './active-request-scorer.js'
import { createPlugin, makeEndpoint, makeRequest } from './contract/fixtures.js'
import { scorerContract } from './contract/scorer-contract.js'

scorerContract(() => createPlugin(activeRequestScorer))

describe('active-request-scorer', () => {
  it('scores (max − count)/max, and 1.0 for idle endpoints', () => {
    const eps = [0, 2, 4].map((n, i) => makeEndpoint(`p${i}`, {}, { inFlightRequests: n }))
    const s = createPlugin<Scorer>(activeRequestScorer).score(new CycleState(), makeRequest(), eps)
    expect(eps.map((e) => s.get(e))).toEqual([1, 0.5, 0])
  })
  it('honours idleThreshold and maxBusyScore', () => {
    const eps = [1, 2, 4].map((n, i) => makeEndpoint(`p${i}`, {}, { inFlightRequests: n }))
    const s = createPlugin<Scorer>(activeRequestScorer, { idleThreshold: 1, maxBusyScore: 0.5 }).score(new CycleState(), makeRequest(), eps)
    expect(eps.map((e) => s.get(e))).toEqual([1, 0.25, 0])
  })
  it('parses requestTimeout as a Go duration', () => {
    expect(activeRequestScorer.parameters.parse({ requestTimeout: '90s' }).requestTimeout).toBe(90_000)
    expect(activeRequestScorer.parameters.safeParse({ requestTimeout: 'soon' }).success).toBe(false)
  })
})
