import { encode } from '@msgpack/msgpack'
import { describe, expect, it } from 'vitest'
import { decodeKvEventBatch, KvEventDecodeError } from './kv-event-decoder.js'

const pack = (v: unknown) => encode(v, { useBigInt64: true })

describe('decodeKvEventBatch', () => {
  it("reads vLLM's positional form: tagged arrays, trailing defaults omitted, ints of any width as one key space", () => {
    const batch = decodeKvEventBatch(
      pack([
        1733500000.5,
        [
          ['BlockStored', [0xffff_ffff_ffff_fff0n, 7], null, [1, 2, 3, 4], 2, null, 'GPU', 'sql-lora'],
          ['BlockStored', [9n], 7, [5, 6], 2],
          ['BlockRemoved', [7], 'GPU'],
          ['AllBlocksCleared'],
          ['SomeFutureEvent', 1],
        ],
        null,
      ]),
    )
    expect(batch.ts).toBe(1733500000.5)
    expect(batch.dataParallelRank).toBeNull()
    expect(batch.events).toEqual([
      { type: 'BlockStored', blockHashes: [0xffff_ffff_ffff_fff0n, 7n], parentBlockHash: null, tokenIds: [1, 2, 3, 4], blockSize: 2, loraName: 'sql-lora', medium: 'GPU' },
      { type: 'BlockStored', blockHashes: [9n], parentBlockHash: 7n, tokenIds: [5, 6], blockSize: 2, loraName: null, medium: null },
      { type: 'BlockRemoved', blockHashes: [7n], medium: 'GPU' },
      { type: 'AllBlocksCleared' },
    ])
  })

  it('reads the named-map form, and hashes sent as bytes', () => {
    const batch = decodeKvEventBatch(
      pack({
        ts: 1,
        data_parallel_rank: 2,
        events: [
          { type: 'BlockStored', block_hashes: [new Uint8Array([0xab, 0xcd])], parent_block_hash: null, token_ids: [1, 2], block_size: 2, medium: 'GPU', lora_name: null },
          { type: 'BlockRemoved', block_hashes: [new Uint8Array([0xab, 0xcd])], medium: 'GPU' },
        ],
      }),
    )
    expect(batch.dataParallelRank).toBe(2)
    expect(batch.events[0]).toMatchObject({ type: 'BlockStored', blockHashes: ['abcd'], tokenIds: [1, 2] })
    expect(batch.events[1]).toEqual({ type: 'BlockRemoved', blockHashes: ['abcd'], medium: 'GPU' })
  })

  it('refuses what is not a KVEventBatch', () => {
    expect(() => decodeKvEventBatch(new Uint8Array([0xc1]))).toThrow(KvEventDecodeError)
    expect(() => decodeKvEventBatch(pack({ ts: 1 }))).toThrow(/not a KVEventBatch/)
    expect(() => decodeKvEventBatch(pack([1, [['BlockStored', [1n], null]], 0]))).toThrow(/without token_ids/)
    expect(() => decodeKvEventBatch(pack([1, [['BlockRemoved', [1.5]]], 0]))).toThrow()
  })
})
