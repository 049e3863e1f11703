import { createHash } from 'node:crypto'

// vLLM's automatic prefix caching identifies a full block by a hash chained from its parent's:
// hash(parent_hash, token_ids, extra_keys), so equal hashes mean equal prefixes (spec/sim-vllm-guidellm.md §3).
// SHA-256 like vLLM's default; the chain root plays NONE_HASH, derived from a seed as vLLM does with PYTHONHASHSEED.

export type BlockHash = string

export function rootHash(seed: string): BlockHash {
  return createHash('sha256').update(`maitred-none-hash:${seed}`).digest('hex')
}

/** Hash of one full block: the parent's hash, the block's token ids, and extra keys (the LoRA name). */
export function hashBlock(parent: BlockHash, tokenIds: ArrayLike<number>, start: number, end: number, extraKey: string | null): BlockHash {
  const tokens = Buffer.allocUnsafe((end - start) * 4)
  for (let i = start; i < end; i++) tokens.writeUInt32LE(tokenIds[i] as number, (i - start) * 4)
  const h = createHash('sha256').update(parent).update(tokens)
  if (extraKey !== null) h.update(`\u0000${extraKey}`)
  return h.digest('hex')
}
