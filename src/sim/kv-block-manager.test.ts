import { describe, expect, it } from 'vitest'
import { KvBlockManager, type KvSequence } from './kv-block-manager.js'

describe('KvBlockManager', () => {
  it('registers blocks a sequence already held when they are computed (P/D decode side: KV pulled, then cached)', () => {
    const kv = new KvBlockManager(16, 4, true)
    const hashes = ['a', 'b', 'c']
    const seq: KvSequence = { blocks: [], numCachedBlocks: 0 }
    // The decode pod takes blocks for the whole 12-token prompt before the KV arrives…
    expect(kv.allocate(seq, 12)).toBe(true)
    // …grows for the first output token (the scheduler allocates again, no cached prefix)…
    expect(kv.allocate(seq, 13)).toBe(true)
    // …and caches the prompt's full blocks once they are computed.
    kv.cacheFullBlocks(seq, hashes, 12)
    expect(kv.findCachedPrefix(hashes, 13)).toHaveLength(3)
  })

  it('does not re-register blocks adopted from the cache', () => {
    const kv = new KvBlockManager(16, 4, true)
    const first: KvSequence = { blocks: [], numCachedBlocks: 0 }
    kv.allocate(first, 8)
    kv.cacheFullBlocks(first, ['a', 'b'], 8)
    const second: KvSequence = { blocks: [], numCachedBlocks: 0 }
    const prefix = kv.findCachedPrefix(['a', 'b'], 9)
    expect(kv.allocate(second, 9, prefix)).toBe(true)
    expect(second.numCachedBlocks).toBe(2)
    expect(second.blocks.slice(0, 2)).toEqual(first.blocks)
  })
})
