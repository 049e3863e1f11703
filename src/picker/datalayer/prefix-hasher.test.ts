import xxhash from 'xxhash-wasm'
import { describe, expect, it } from 'vitest'
import { hashPromptBlocks } from './prefix-hasher.js'

describe('hashPromptBlocks', () => {
  it('chains xxh64(block ‖ LE64(prev)) from the seed xxh64(model ‖ salt), full blocks only', async () => {
    const x = await xxhash()
    expect(x.h64('', 0n)).toBe(0xef46db3751d8e999n) // the xxHash64 reference vector
    const seed = x.h64('modelsalt')
    const le = (h: bigint) => {
      const b = Buffer.alloc(8)
      b.writeBigUInt64LE(h)
      return b
    }
    const h0 = x.h64Raw(Buffer.concat([Buffer.from('abcd'), le(seed)]))
    const h1 = x.h64Raw(Buffer.concat([Buffer.from('efgh'), le(h0)]))
    const mask = (1n << 52n) - 1n
    expect(hashPromptBlocks('model', 'salt', 'abcdefghij', { blockSizeChars: 4, maxBlocks: 10 })).toEqual([Number(h0 & mask), Number(h1 & mask)])
  })
  it('hashes UTF-8 bytes and caps at maxBlocks', () => {
    expect(hashPromptBlocks('m', '', 'é'.repeat(4), { blockSizeChars: 4, maxBlocks: 10 })).toHaveLength(2)
    expect(hashPromptBlocks('m', '', 'x'.repeat(1000), { blockSizeChars: 4, maxBlocks: 7 })).toHaveLength(7)
    expect(hashPromptBlocks('m', '', 'abc', { blockSizeChars: 4, maxBlocks: 7 })).toEqual([])
  })
  it('gives equal prefixes equal hashes and diverges after the first different block', () => {
    const a = hashPromptBlocks('m', '', 'aaaabbbbcccc', { blockSizeChars: 4, maxBlocks: 10 })
    const b = hashPromptBlocks('m', '', 'aaaabbbbdddd', { blockSizeChars: 4, maxBlocks: 10 })
    expect(a.slice(0, 2)).toEqual(b.slice(0, 2))
    expect(a[2]).not.toBe(b[2])
  })
})
