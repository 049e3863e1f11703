import { describe, expect, it } from 'vitest'
import { writePrefixMatch } from '../datalayer/approx-prefix-indexer.js'
import { CycleState } from '../framework/cycle-state.js'
import type { Endpoint, Filter } from '../framework/types.js'
import { createPlugin, makeEndpoint, makeRequest, seededRandom } from './contract/fixtures.js'
import { filterContract } from './contract/filter-contract.js'
import { prefixCacheAffinityFilter } from './prefix-cache-affinity-filter.js'

const withMatches = (cycle: CycleState, eps: readonly Endpoint[], matched: number[]) =>
  writePrefixMatch(cycle, 'p', { hashes: Array.from({ length: 10 }, (_, i) => i), blockSizeChars: 64, blockSizeTokens: 16, totalBlocks: 10, matchedBlocks: new Map(eps.map((e, i) => [e.ref.id, matched[i] ?? 0])) })

filterContract(() => createPlugin(prefixCacheAffinityFilter), (cycle, _req, eps) => withMatches(cycle, eps, [9, 2, 10, 0]))

describe('prefix-cache-affinity-filter', () => {
  const run = (params: unknown, eps: Endpoint[], matched: number[], random = seededRandom(1)) => {
    const cycle = new CycleState()
    withMatches(cycle, eps, matched)
    return createPlugin<Filter>(prefixCacheAffinityFilter, params).filter(cycle, makeRequest({ random }), eps).map((e) => e.ref.name)
  }
  const eps = [makeEndpoint('a'), makeEndpoint('b'), makeEndpoint('c')]
  it('keeps endpoints at or above the affinity threshold', () => {
    expect(run({}, eps, [8, 7, 10])).toEqual(['a', 'c'])
  })
  it('keeps all when none is sticky, or when exploring', () => {
    expect(run({}, eps, [1, 2, 3])).toEqual(['a', 'b', 'c'])
    expect(run({ explorationProbability: 1 }, eps, [10, 0, 0])).toEqual(['a', 'b', 'c'])
  })
  it('breaks stickiness when the sticky endpoint is too far behind in estimated TTFT', () => {
    const loaded = [makeEndpoint('a', {}, { inFlightTokens: 400_000 }), makeEndpoint('b', {}, { inFlightTokens: 0 })]
    // 400k tokens / 15928 tok/s ≈ 25 s > 18 s penalty.
    expect(run({}, loaded, [10, 0])).toEqual(['a', 'b'])
    expect(run({ maxTTFTPenaltyMs: 30_000 }, loaded, [10, 0])).toEqual(['a'])
  })
})
