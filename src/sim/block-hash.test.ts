import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { hashBlock, rootHash } from './block-hash.js'

/** The chained hash as defined: SHA-256 over the parent's hash, the block's token ids (u32 LE) and the extra key. */
function reference(parent: string, tokenIds: number[], extraKey: string | null): string {
  const tokens = Buffer.alloc(tokenIds.length * 4)
  tokenIds.forEach((id, i) => tokens.writeUInt32LE(id, i * 4))
  const h = createHash('sha256').update(parent).update(tokens)
  if (extraKey !== null) h.update(`\u0000${extraKey}`)
  return h.digest('hex')
}

describe('hashBlock', () => {
  const root = rootHash('0')
  const ids = Array.from({ length: 48 }, (_, i) => (i * 7919) % 151_000)

  it('hashes the parent, the block and the extra key as one SHA-256', () => {
    expect(hashBlock(root, ids, 16, 32, null)).toBe(reference(root, ids.slice(16, 32), null))
    expect(hashBlock(root, ids, 0, 16, 'sql-lora-é')).toBe(reference(root, ids.slice(0, 16), 'sql-lora-é'))
  })

  it('chains: a block hash depends on its parent and its LoRA', () => {
    const first = hashBlock(root, ids, 0, 16, null)
    expect(hashBlock(first, ids, 16, 32, null)).not.toBe(hashBlock(root, ids, 16, 32, null))
    expect(hashBlock(root, ids, 0, 16, 'a')).not.toBe(first)
  })
})
