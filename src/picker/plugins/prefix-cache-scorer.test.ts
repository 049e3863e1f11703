import { describe, expect, it } from 'vitest'
import { writePrefixMatch } from '../datalayer/approx-prefix-indexer.js'
import { CycleState } from '../framework/cycle-state.js'
import type { DataProducer, Endpoint, PreRequest, Scorer, SchedulingRequest } from '../framework/types.js'
import { approxPrefixCacheProducer } from './approx-prefix-cache-producer.js'
import { createPlugin, emptyMutations, makeEndpoint, makeRequest, resultFor } from './contract/fixtures.js'
import { scorerContract } from './contract/scorer-contract.js'
import { prefixCacheScorer } from './prefix-cache-scorer.js'

type PrefixScorer = Scorer & DataProducer & PreRequest

/** Schedules `req` to `target`: produce, score, then the PreRequest index update. */
function route(plugin: PrefixScorer, req: SchedulingRequest, eps: Endpoint[], target: Endpoint, peers: (DataProducer & PreRequest)[] = []) {
  const cycle = new CycleState()
  for (const p of [...peers, plugin]) p.produce(cycle, req, eps)
  const scores = plugin.score(cycle, req, eps)
  for (const p of [...peers, plugin]) p.preRequest(cycle, req, resultFor([target]), emptyMutations())
  return eps.map((e) => scores.get(e))
}

const long = (seed: string, n = 640) => seed.repeat(Math.ceil(n / seed.length)).slice(0, n)

scorerContract(
  () => createPlugin(prefixCacheScorer),
  (cycle, _req, eps) =>
    writePrefixMatch(cycle, 'prefix-cache-scorer', {
      hashes: [1, 2, 3, 4],
      blockSizeChars: 64,
      blockSizeTokens: 16,
      totalBlocks: 4,
      matchedBlocks: new Map(eps.slice(0, 2).map((e, i) => [e.ref.id, 4 - i * 3])),
    }),
)

describe('prefix-cache-scorer (self-indexing form)', () => {
  it('scores matched/total blocks for the endpoint the prefix was sent to', () => {
    const plugin = createPlugin<PrefixScorer>(prefixCacheScorer) // 64-char blocks, as GIE
    const eps = [makeEndpoint('a'), makeEndpoint('b')]
    const shared = long('You are a helpful assistant. ', 640) // 10 blocks
    expect(route(plugin, makeRequest({ prompt: shared }), eps, eps[1]!)).toEqual([0, 0])
    // Same 10-block prefix + 10 new blocks: b holds 10 of 20.
    expect(route(plugin, makeRequest({ prompt: shared + long('Tell me about cats. ', 640) }), eps, eps[1]!)).toEqual([0, 0.5])
    // The full prompt was indexed at scheduling time, so an identical request is a full hit.
    expect(route(plugin, makeRequest({ prompt: shared + long('Tell me about cats. ', 640) }), eps, eps[1]!)).toEqual([0, 1])
  })
  it('scores 0 for a prompt shorter than one block', () => {
    const plugin = createPlugin<PrefixScorer>(prefixCacheScorer)
    const eps = [makeEndpoint('a')]
    route(plugin, makeRequest({ prompt: 'short' }), eps, eps[0]!)
    expect(route(plugin, makeRequest({ prompt: 'short' }), eps, eps[0]!)).toEqual([0])
  })
  it('separates models and cache salts (the chain is seeded with them)', () => {
    const plugin = createPlugin<PrefixScorer>(prefixCacheScorer)
    const eps = [makeEndpoint('a')]
    const prompt = long('abc ', 256)
    route(plugin, makeRequest({ prompt, targetModel: 'm1' }), eps, eps[0]!)
    expect(route(plugin, makeRequest({ prompt, targetModel: 'm2' }), eps, eps[0]!)).toEqual([0])
    expect(route(plugin, makeRequest({ prompt, targetModel: 'm1', body: { model: 'm1', prompt, cache_salt: 's' } }), eps, eps[0]!)).toEqual([0])
    expect(route(plugin, makeRequest({ prompt, targetModel: 'm1' }), eps, eps[0]!)).toEqual([1])
  })
  it('caps matching at maxPrefixBlocksToMatch and honours the legacy hashBlockSize', () => {
    const plugin = createPlugin<PrefixScorer>(prefixCacheScorer, { hashBlockSize: 5, maxPrefixBlocksToMatch: 4 })
    const eps = [makeEndpoint('a')]
    route(plugin, makeRequest({ prompt: 'aaaaabbbbbcccccddddd' }), eps, eps[0]!)
    // Only the first 4 blocks (20 chars) are hashed, so a different tail still matches fully.
    expect(route(plugin, makeRequest({ prompt: 'aaaaabbbbbcccccdddddZZZZZ' }), eps, eps[0]!)).toEqual([1])
    expect(route(plugin, makeRequest({ prompt: 'aaaaabbbbbXXXXXddddd' }), eps, eps[0]!)).toEqual([0.5])
  })
  it('adds the match-length term when matchLengthWeight > 0', () => {
    const plugin = createPlugin<PrefixScorer>(prefixCacheScorer, { matchLengthWeight: 0.5, matchLengthScaleTokens: 320 })
    const eps = [makeEndpoint('a')]
    const prompt = long('xyz ', 640) // 10 blocks of 16 tokens = 160 tokens
    route(plugin, makeRequest({ prompt }), eps, eps[0]!)
    // 0.5·min(1, 160/320)² + 0.5·1 = 0.625
    expect(route(plugin, makeRequest({ prompt }), eps, eps[0]!)).toEqual([0.625])
  })
  it('autoTunes block size and capacity from vllm:cache_config_info', () => {
    const plugin = createPlugin<PrefixScorer>(prefixCacheScorer)
    const eps = [makeEndpoint('a', { blockSize: 32, numGpuBlocks: 2 })]
    const prompt = long('q', 128 * 4) // 4 blocks of 32 tokens (128 chars)
    route(plugin, makeRequest({ prompt }), eps, eps[0]!)
    // Capacity 2 blocks: the LRU kept only the last two hashes, so the walk from block 0 finds nothing.
    expect(route(plugin, makeRequest({ prompt }), eps, eps[0]!)).toEqual([0])
  })
})

describe('prefix-cache-scorer (consumer of approx-prefix-cache-producer)', () => {
  it('reads the producer match info and leaves indexing to the producer', () => {
    const producer = createPlugin<DataProducer & PreRequest>(approxPrefixCacheProducer, { blockSizeTokens: 4 })
    const scorer = createPlugin<PrefixScorer>(prefixCacheScorer, {}, [producer])
    const eps = [makeEndpoint('a'), makeEndpoint('b')]
    const prompt = long('shared prefix ', 160) // 10 blocks of 16 chars
    route(scorer, makeRequest({ prompt }), eps, eps[0]!, [producer])
    expect(route(scorer, makeRequest({ prompt }), eps, eps[0]!, [producer])).toEqual([1, 0])
    expect((scorer as unknown as { prefixIndexSize(): number }).prefixIndexSize()).toBe(0)
    expect((producer as unknown as { prefixIndexSize(): number }).prefixIndexSize()).toBe(10)
  })
})
