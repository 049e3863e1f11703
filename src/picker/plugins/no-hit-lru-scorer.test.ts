import { describe, expect, it } from 'vitest'
import { writePrefixMatch } from '../datalayer/approx-prefix-indexer.js'
import { CycleState } from '../framework/cycle-state.js'
import type { Endpoint, PreRequest, Scorer } from '../framework/types.js'
import { createPlugin, emptyMutations, makeEndpoint, makeRequest, resultFor } from './contract/fixtures.js'
import { scorerContract } from './contract/scorer-contract.js'
import { noHitLruScorer } from './no-hit-lru-scorer.js'

scorerContract(() => createPlugin(noHitLruScorer))

function cycleWithMatches(matches: Record<string, number>): CycleState {
  const cycle = new CycleState()
  writePrefixMatch(cycle, 'prefix-cache-scorer', { hashes: [1, 2], blockSizeChars: 64, blockSizeTokens: 16, totalBlocks: 2, matchedBlocks: new Map(Object.entries(matches)) })
  return cycle
}

describe('no-hit-lru-scorer', () => {
  const eps = [makeEndpoint('a'), makeEndpoint('b'), makeEndpoint('c')]
  const scores = (plugin: Scorer, cycle: CycleState, list: Endpoint[] = eps) => {
    const s = plugin.score(cycle, makeRequest(), list)
    return list.map((e) => s.get(e))
  }
  it('gives 0.5 to all on a warm request', () => {
    const plugin = createPlugin<Scorer>(noHitLruScorer)
    expect(scores(plugin, cycleWithMatches({ 'default/b': 1 }))).toEqual([0.5, 0.5, 0.5])
  })
  it('ranks never-used first, then least recently used; only cold requests update the LRU', () => {
    const plugin = createPlugin<Scorer & PreRequest>(noHitLruScorer)
    const coldTo = (target: Endpoint) => {
      const cycle = cycleWithMatches({})
      plugin.score(cycle, makeRequest(), eps)
      plugin.preRequest(cycle, makeRequest(), resultFor([target]), emptyMutations())
    }
    coldTo(eps[0]!)
    coldTo(eps[1]!)
    // c never used → 1, then a (least recent) → 0.5, b → 0.
    expect(scores(plugin, cycleWithMatches({}))).toEqual([0.5, 0, 1])
    // A warm request to c does not touch the LRU.
    const warm = cycleWithMatches({ 'default/c': 2 })
    plugin.score(warm, makeRequest(), eps)
    plugin.preRequest(warm, makeRequest(), resultFor([eps[2]!]), emptyMutations())
    expect(scores(plugin, cycleWithMatches({}))).toEqual([0.5, 0, 1])
  })
})
