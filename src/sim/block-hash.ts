import { createHash, hash } from 'node:crypto'

// vLLM's automatic prefix caching identifies a full block by a hash chained from its parent's:
// hash(parent_hash, token_ids, extra_keys), so equal hashes mean equal prefixes (spec/sim-vllm-guidellm.md §3).
// SHA-256 like vLLM's default; the chain root plays NONE_HASH, derived from a seed as vLLM does with PYTHONHASHSEED.

export type BlockHash = string

export function rootHash(seed: string): BlockHash {
  return createHash('sha256').update(`maitred-none-hash:${seed}`).digest('hex')
}

/**
 * Hash of one full block: the parent's hash, the block's token ids, and extra keys (the LoRA name), hashed as one buffer.
 * One-shot `hash()` rather than `createHash()`: a Hash object is a weak native handle that the minor GC has to process
 * (≈ 1.5 ms of each scavenge's pause under bench:sim).
 */
export function hashBlock(parent: BlockHash, tokenIds: ArrayLike<number>, start: number, end: number, extraKey: string | null): BlockHash {
  const extra = extraKey === null ? '' : `\u0000${extraKey}`
  const tokensAt = Buffer.byteLength(parent)
  const extraAt = tokensAt + (end - start) * 4
  const data = Buffer.allocUnsafe(extraAt + Buffer.byteLength(extra))
  data.write(parent, 0)
  for (let i = start; i < end; i++) data.writeUInt32LE(tokenIds[i] as number, tokensAt + (i - start) * 4)
  data.write(extra, extraAt)
  return hash('sha256', data, 'hex')
}
