import { describe, expect, it } from 'vitest'
import { writePrefixMatch } from '../datalayer/approx-prefix-indexer.js'
import { CycleState } from '../framework/cycle-state.js'
import type { PdDecider } from '../framework/types.js'
import { createPlugin, makeEndpoint, makeRequest } from './contract/fixtures.js'
import { deciderContract } from './contract/decider-contract.js'
import { prefixBasedPdDecider } from './prefix-based-pd-decider.js'

deciderContract(() => createPlugin(prefixBasedPdDecider, { nonCachedTokens: 16 }))

describe('prefix-based-pd-decider', () => {
  const decode = makeEndpoint('d')
  const cycle = (matched: number) => {
    const c = new CycleState()
    writePrefixMatch(c, 'x', { hashes: [], blockSizeChars: 64, blockSizeTokens: 16, totalBlocks: 10, matchedBlocks: new Map([[decode.ref.id, matched]]) })
    return c
  }
  const decide = (params: unknown, matched: number, inputTokens: number) =>
    createPlugin<PdDecider>(prefixBasedPdDecider, params).disaggregate(cycle(matched), makeRequest({ inputTokens }), decode)
  it('disaggregates when inputTokens − cached·blockSizeTokens ≥ nonCachedTokens', () => {
    expect(decide({ nonCachedTokens: 16 }, 5, 96)).toBe(true) // 96 − 80 = 16
    expect(decide({ nonCachedTokens: 16 }, 5, 95)).toBe(false) // 15
  })
  it('never disaggregates with nonCachedTokens 0 or below promptTokens', () => {
    expect(decide({}, 0, 10_000)).toBe(false)
    expect(decide({ nonCachedTokens: 1, promptTokens: 200 }, 0, 199)).toBe(false)
    expect(decide({ nonCachedTokens: 1, promptTokens: 200 }, 0, 200)).toBe(true)
  })
})
