import { describe, expect, it } from 'vitest'
import { hashBlock, rootHash } from '../../sim/block-hash.js'
import { eventBlockHash } from '../../sim/kv-event-publisher.js'
import { KvBlockIndex } from './kv-block-index.js'
import type { KvEvent } from './kv-event-decoder.js'

const BS = 4
const tokens = (seed: number, n: number) => Array.from({ length: n }, (_, i) => (seed * 1000 + i) % 151_000)

/** The BlockStored events an engine with this index's hashing sends for a sequence's blocks [from, to). */
function stored(ids: number[], from: number, to: number, engineKey = (i: number) => BigInt(ids[0]!) * 1_000n + BigInt(i)): KvEvent {
  return {
    type: 'BlockStored',
    blockHashes: Array.from({ length: to - from }, (_, i) => engineKey(from + i)),
    parentBlockHash: from === 0 ? null : engineKey(from - 1),
    tokenIds: ids.slice(from * BS, to * BS),
    blockSize: BS,
    loraName: null,
    medium: 'GPU',
  }
}

describe('KvBlockIndex', () => {
  it('finds each endpoint’s longest cached prefix of a request from stored events, chained from parents', () => {
    const index = new KvBlockIndex(BS, '0')
    const a = tokens(1, 40)
    expect(index.apply('e1', stored(a, 0, 3))).toBe('ok')
    expect(index.apply('e1', stored(a, 3, 6))).toBe('ok') // continues from its parent
    expect(index.apply('e2', stored(a, 0, 2))).toBe('ok')
    const keys = index.requestKeys(a.slice(0, 30), null) // floor(29/4) = 7 blocks can hit
    expect(keys).toHaveLength(7)
    expect(index.longestPrefix(keys)).toEqual(new Map([['e1', 6], ['e2', 2]]))
    expect(index.size()).toBe(6)
  })

  it('keys blocks as the simulator hashes them, so the engine’s 64-bit event hashes name the same blocks', () => {
    const index = new KvBlockIndex(BS, '7')
    const ids = tokens(3, 13)
    let h = rootHash('7')
    const engine = [0, 1, 2].map((i) => (h = hashBlock(h, ids, i * BS, (i + 1) * BS, null)))
    expect(index.requestKeys(ids, null)).toEqual(engine)
    index.apply('e', stored(ids, 0, 3, (i) => eventBlockHash(engine[i]!)))
    expect(index.longestPrefix(engine)).toEqual(new Map([['e', 3]]))
  })

  it('counts only a gapless prefix: a block held without its parent does not match', () => {
    const index = new KvBlockIndex(BS, '0')
    const a = tokens(1, 40)
    index.apply('e1', stored(a, 0, 4))
    index.apply('e1', { type: 'BlockRemoved', blockHashes: [BigInt(a[0]!) * 1_000n + 1n], medium: 'GPU' }) // block 1 evicted
    expect(index.longestPrefix(index.requestKeys(a, null))).toEqual(new Map([['e1', 1]]))
  })

  it('applies removals and clears, and keeps a block stored twice until both copies are removed', () => {
    const index = new KvBlockIndex(BS, '0')
    const a = tokens(1, 20)
    const keys = index.requestKeys(a, null)
    index.apply('e1', stored(a, 0, 2))
    index.apply('e1', stored(a, 0, 2)) // a duplicate block (vLLM's block table is append-only)
    const removeFirst: KvEvent = { type: 'BlockRemoved', blockHashes: [BigInt(a[0]!) * 1_000n], medium: 'GPU' }
    index.apply('e1', removeFirst)
    expect(index.longestPrefix(keys).get('e1')).toBe(2)
    index.apply('e1', removeFirst)
    expect(index.longestPrefix(keys).get('e1')).toBeUndefined()
    index.apply('e2', stored(a, 0, 4))
    index.apply('e2', { type: 'AllBlocksCleared' })
    expect(index.blocksHeld('e2')).toBe(0)
    expect(index.size()).toBe(1) // e1's second block
  })

  it('cannot key a block whose parent it never saw, nor blocks of another size', () => {
    const index = new KvBlockIndex(BS, '0')
    const a = tokens(1, 20)
    expect(index.apply('e1', stored(a, 2, 4))).toBe('orphan')
    expect(index.apply('e1', { ...(stored(a, 0, 2) as Extract<KvEvent, { type: 'BlockStored' }>), blockSize: 16 })).toBe('block-size-mismatch')
    expect(index.size()).toBe(0)
  })

  it('separates LoRA adapters (their name is the extra key) and remembers the names it saw', () => {
    const index = new KvBlockIndex(BS, '0')
    const a = tokens(1, 20)
    index.apply('e1', { ...(stored(a, 0, 2) as Extract<KvEvent, { type: 'BlockStored' }>), loraName: 'sql' })
    expect(index.loraNames).toEqual(new Set(['sql']))
    expect(index.longestPrefix(index.requestKeys(a, null)).size).toBe(0)
    expect(index.longestPrefix(index.requestKeys(a, 'sql')).get('e1')).toBe(2)
  })

  it('stays exact under interleaved updates from many endpoints (against a model rebuilt from scratch)', () => {
    const index = new KvBlockIndex(BS, '0')
    const seqs = Array.from({ length: 6 }, (_, s) => tokens(s + 1, 10 * BS))
    const endpoints = ['e0', 'e1', 'e2', 'e3']
    // The model: per endpoint, per sequence, how many leading blocks are held (stores extend, evictions cut the tail).
    const held = new Map(endpoints.map((e) => [e, seqs.map(() => 0)]))
    let x = 12345
    const rand = (n: number) => ((x = (x * 1103515245 + 12345) & 0x7fffffff) % n)
    for (let step = 0; step < 3000; step++) {
      const e = endpoints[rand(endpoints.length)]!
      const s = rand(seqs.length)
      const have = held.get(e)![s]!
      const op = rand(5)
      if (op < 3 && have < 10) {
        const to = Math.min(10, have + 1 + rand(3))
        index.apply(e, stored(seqs[s]!, have, to))
        held.get(e)![s] = to
      } else if (op === 3 && have > 0) {
        index.apply(e, { type: 'BlockRemoved', blockHashes: [BigInt(seqs[s]![0]!) * 1_000n + BigInt(have - 1)], medium: 'GPU' })
        held.get(e)![s] = have - 1
      } else if (op === 4 && rand(50) === 0) {
        index.apply(e, { type: 'AllBlocksCleared' })
        held.set(e, seqs.map(() => 0))
      }
      if (step % 100 === 0) {
        for (const [i, seq] of seqs.entries()) {
          const want = new Map(endpoints.flatMap((id) => (held.get(id)![i]! > 0 ? [[id, held.get(id)![i]!] as const] : [])))
          // A full 10-block request plus one token: all 10 blocks can hit.
          expect(index.longestPrefix(index.requestKeys([...seq, 0], null))).toEqual(new Map([...want].sort()))
        }
      }
    }
  })
})

describe('KvBlockIndex pending blocks (speculative indexing)', () => {
  it('counts blocks a request was just sent to compute as held there until their TTL, extended by a later request', () => {
    const index = new KvBlockIndex(BS, '0')
    const keys = index.requestKeys(tokens(1, 40), null)
    index.apply('e1', stored(tokens(1, 40), 0, 2)) // e1 reported the first two blocks
    index.addPending('e2', keys, 1_000, 3_000)
    expect(index.longestPrefix(keys, 2_999)).toEqual(new Map([['e1', 2], ['e2', keys.length]]))
    // Without a time only events count (what the engines have confirmed).
    expect(index.longestPrefix(keys)).toEqual(new Map([['e1', 2]]))
    index.addPending('e2', keys.slice(0, 3), 2_500, 4_500) // the next request of the burst, sent there too
    expect(index.longestPrefix(keys, 3_000)).toEqual(new Map([['e1', 2], ['e2', 3]]))
    expect(index.longestPrefix(keys, 4_500)).toEqual(new Map([['e1', 2]]))
  })

  it('holds the blocks of requests in flight past the TTL, until the TTL after the last one is answered', () => {
    const index = new KvBlockIndex(BS, '0')
    const keys = index.requestKeys(tokens(2, 40), null)
    index.holdPending('e1', keys, 1_000)
    index.holdPending('e1', keys, 1_500) // a second request of the burst, queued behind the first
    expect(index.longestPrefix(keys, 10_000)).toEqual(new Map([['e1', keys.length]])) // both still queued in the engine
    index.releasePending('e1', keys, 10_000, 12_000)
    expect(index.longestPrefix(keys, 13_000)).toEqual(new Map([['e1', keys.length]])) // the second is still in flight
    index.releasePending('e1', keys, 14_000, 16_000)
    expect(index.longestPrefix(keys, 15_999)).toEqual(new Map([['e1', keys.length]]))
    expect(index.longestPrefix(keys, 16_000)).toEqual(new Map())
  })
})

describe('KvBlockIndex.requestKeys', () => {
  it('reuses the keys of a recent request’s shared prefix and hashes only the rest, with the same result', () => {
    const index = new KvBlockIndex(BS, '0')
    const doc = tokens(9, 40)
    const fresh = (ids: number[]) => new KvBlockIndex(BS, '0').requestKeys(ids, null)
    for (const tail of [[1, 2, 3, 4, 5, 6, 7], [1, 2, 9, 9, 9, 9, 9, 9, 9], [8], []]) {
      const ids = [...doc, ...tail]
      expect(index.requestKeys(ids, null)).toEqual(fresh(ids))
    }
    const other = [...doc.slice(0, 10), 0, ...doc.slice(11)]
    expect(index.requestKeys(other, null)).toEqual(fresh(other))
    expect(index.requestKeys(doc.slice(0, 5), null)).toEqual(fresh(doc.slice(0, 5)))
  })
})
