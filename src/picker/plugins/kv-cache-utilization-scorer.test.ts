import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { Scorer } from '../framework/types.js'
import { createPlugin, makeEndpoint, makeRequest } from './contract/fixtures.js'
import { scorerContract } from './contract/scorer-contract.js'
import { kvCacheUtilizationScorer } from './kv-cache-utilization-scorer.js'

scorerContract(() => createPlugin(kvCacheUtilizationScorer))

describe('kv-cache-utilization-scorer', () => {
  it('scores 1 − utilisation', () => {
    const eps = [makeEndpoint('a', { kvCacheUsagePercent: 0 }), makeEndpoint('b', { kvCacheUsagePercent: 0.25 }), makeEndpoint('c', { kvCacheUsagePercent: 1 })]
    const s = createPlugin<Scorer>(kvCacheUtilizationScorer).score(new CycleState(), makeRequest(), eps)
    expect(eps.map((e) => s.get(e))).toEqual([1, 0.75, 0])
  })
})
