import { describe, expect, it } from 'vitest'
import { KvBlockManager, type KvCacheEventSink, type KvSequence } from './kv-block-manager.js'

const seq = (tokens: number): KvSequence => ({ blocks: [], numCachedBlocks: 0, tokenIds: Array.from({ length: tokens }, (_, i) => i), loraName: null })

/** Every event the manager reports, in order. */
function recorder(kv: KvBlockManager): string[] {
  const log: string[] = []
  const sink: KvCacheEventSink = {
    blockStored: (hashes, parent) => log.push(`stored ${hashes.join(',')} after ${parent}`),
    blockRemoved: (hash) => log.push(`removed ${hash}`),
    allBlocksCleared: () => log.push('cleared'),
  }
  kv.events = sink
  return log
}

describe('KvBlockManager prefix cache events', () => {
  it('reports runs of newly cached blocks with their parent, and each evicted hash', () => {
    const kv = new KvBlockManager(5, 2, true) // 4 usable blocks of 2 tokens
    const log = recorder(kv)
    const a = seq(4)
    kv.allocate(a, 4)
    kv.cacheFullBlocks(a, ['a0', 'a1'], 4)
    kv.release(a)
    const b = seq(6)
    kv.allocate(b, 6) // 3 blocks: the 2 free ones, then a1 (freed first, the chain's tail) is evicted
    kv.cacheFullBlocks(b, ['b0', 'b1', 'b2'], 6)
    expect(log).toEqual(['stored a0,a1 after null', 'removed a1', 'stored b0,b1,b2 after null'])
    expect(kv.findCachedPrefix(['a0', 'a1'], 5)).toHaveLength(1)
  })

  it('keeps a hash cached while a duplicate block holds it, so events and lookups stay in step', () => {
    const kv = new KvBlockManager(9, 2, true)
    const log = recorder(kv)
    // Two sequences computed the same prefix at once: the second's blocks are duplicates.
    const [x, y] = [seq(4), seq(4)]
    kv.allocate(x, 4)
    kv.allocate(y, 4)
    kv.cacheFullBlocks(x, ['p0', 'p1'], 4)
    kv.cacheFullBlocks(y, ['p0', 'p1'], 4)
    kv.release(x) // x's blocks are evicted first
    const filler = seq(8)
    kv.allocate(filler, 8) // takes the 4 never-used blocks
    kv.allocate(filler, 12) // then x's two: p0 and p1 stay cached in y's blocks
    expect(kv.findCachedPrefix(['p0', 'p1'], 5)).toEqual(y.blocks)
    kv.release(y)
    kv.allocate(filler, 16)
    expect(log).toEqual(['stored p0,p1 after null', 'removed p1', 'removed p0'])
    expect(kv.findCachedPrefix(['p0', 'p1'], 5)).toEqual([])
  })

  it('reports a reset as AllBlocksCleared, refused while a sequence holds blocks', () => {
    const kv = new KvBlockManager(5, 2, true)
    const log = recorder(kv)
    const a = seq(4)
    kv.allocate(a, 4)
    kv.cacheFullBlocks(a, ['a0', 'a1'], 4)
    expect(kv.resetPrefixCache()).toBe(false)
    kv.release(a)
    expect(kv.resetPrefixCache()).toBe(true)
    expect(log.at(-1)).toBe('cleared')
    expect(kv.findCachedPrefix(['a0'], 3)).toEqual([])
  })
})

describe('KvBlockManager cached blocks', () => {
  it('registers blocks a sequence already held when they are computed (P/D decode side: KV pulled, then cached)', () => {
    const kv = new KvBlockManager(16, 4, true)
    const hashes = ['a', 'b', 'c']
    const s = seq(12)
    // The decode pod takes blocks for the whole 12-token prompt before the KV arrives…
    expect(kv.allocate(s, 12)).toBe(true)
    // …grows for the first output token (the scheduler allocates again, no cached prefix)…
    expect(kv.allocate(s, 13)).toBe(true)
    // …and caches the prompt's full blocks once they are computed.
    kv.cacheFullBlocks(s, hashes, 12)
    expect(kv.findCachedPrefix(hashes, 13)).toHaveLength(3)
  })

  it('queues a freed unhashed block behind older cached ones, as vLLM V1 does, so they are evicted first', () => {
    const kv = new KvBlockManager(5, 2, true) // 4 usable blocks of 2 tokens
    const b = seq(4)
    kv.allocate(b, 4)
    kv.cacheFullBlocks(b, ['b0', 'b1'], 4)
    const a = seq(3) // one full block and a partial one, which is never hashed
    kv.allocate(a, 3)
    kv.cacheFullBlocks(a, ['a0'], 3)
    kv.release(b)
    kv.release(a)
    // The LRU now runs b1, b0, a's partial block, a0: the next block taken evicts b1, not the unhashed block.
    const c = seq(2)
    expect(kv.allocate(c, 2)).toBe(true)
    expect(kv.evictions).toBe(1)
    expect(kv.findCachedPrefix(['b0', 'b1'], 5)).toHaveLength(1)
    expect(kv.findCachedPrefix(['a0'], 3)).toHaveLength(1)
  })

  it('does not re-register blocks adopted from the cache', () => {
    const kv = new KvBlockManager(16, 4, true)
    const first = seq(8)
    kv.allocate(first, 8)
    kv.cacheFullBlocks(first, ['a', 'b'], 8)
    const second = seq(9)
    const prefix = kv.findCachedPrefix(['a', 'b'], 9)
    expect(kv.allocate(second, 9, prefix)).toBe(true)
    expect(second.numCachedBlocks).toBe(2)
    expect(second.blocks.slice(0, 2)).toEqual(first.blocks)
  })
})
