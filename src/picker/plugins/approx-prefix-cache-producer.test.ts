import { describe, expect, it } from 'vitest'
import { readPrefixMatch } from '../datalayer/approx-prefix-indexer.js'
import { CycleState } from '../framework/cycle-state.js'
import type { DataProducer, PreRequest } from '../framework/types.js'
import { approxPrefixCacheProducer } from './approx-prefix-cache-producer.js'
import { createPlugin, emptyMutations, makeEndpoint, makeRequest, resultFor } from './contract/fixtures.js'

describe('approx-prefix-cache-producer', () => {
  const eps = [makeEndpoint('decode'), makeEndpoint('prefill')]
  it('writes match info for every candidate and indexes the primary and prefill picks at PreRequest', () => {
    const producer = createPlugin<DataProducer & PreRequest>(approxPrefixCacheProducer, { blockSizeTokens: 4 })
    const prompt = 'p'.repeat(16 * 5) // 5 blocks of 16 chars
    const c1 = new CycleState()
    producer.produce(c1, makeRequest({ prompt }), eps)
    expect(readPrefixMatch(c1, 'approx-prefix-cache-producer')).toMatchObject({ totalBlocks: 5, blockSizeTokens: 4, blockSizeChars: 16 })
    producer.preRequest(c1, makeRequest({ prompt }), resultFor([eps[0]!], { prefill: [eps[1]!] }, 'decode'), emptyMutations())
    const c2 = new CycleState()
    producer.produce(c2, makeRequest({ prompt }), eps)
    expect(readPrefixMatch(c2)!.matchedBlocks).toEqual(new Map([['default/decode', 5], ['default/prefill', 5]]))
  })
  it('converts maxPrefixTokensToMatch into a block cap', () => {
    const producer = createPlugin<DataProducer>(approxPrefixCacheProducer, { maxPrefixTokensToMatch: 64 }) // 4 blocks of 16 tokens
    const c = new CycleState()
    producer.produce(c, makeRequest({ prompt: 'q'.repeat(10_000) }), eps)
    expect(readPrefixMatch(c)!.totalBlocks).toBe(4)
  })
  it('rejects unknown parameters', () => {
    expect(approxPrefixCacheProducer.parameters.safeParse({ blockSizeToken: 4 }).success).toBe(false)
  })
})
