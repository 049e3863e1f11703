import xxhash from 'xxhash-wasm'

// xxhash-wasm: maintained, pure WebAssembly (no native build), the xxHash64 that GIE uses (cespare/xxhash/v2).
const xxh = await xxhash()

/** Lower 52 bits of a 64-bit hash as a JS number: exact Map keys without BigInt boxing (collisions ≈ n²/2⁵³). */
const KEY_MASK = (1n << 52n) - 1n

const utf8 = new TextEncoder()
let encoded = new Uint8Array(16 * 1024)
/** One block and its parent hash, as hashed; reused across calls (the picker runs one request at a time). */
let scratch = new Uint8Array(0)
let view = new DataView(scratch.buffer)

/** The chain's seed per model and salt: a handful of distinct values, hashed once each. */
const seeds = new Map<string, bigint>()
function seedFor(model: string, cacheSalt: string): bigint {
  const key = `${model}\0${cacheSalt}`
  let seed = seeds.get(key)
  if (seed === undefined) {
    if (seeds.size >= 1024) seeds.clear()
    seeds.set(key, (seed = xxh.h64(model + cacheSalt)))
  }
  return seed
}

export interface BlockHashOptions {
  /** Block size in bytes of the prompt (GIE: 64 = 16 tokens × 4 bytes/token). */
  readonly blockSizeChars: number
  /** Matching is capped at this many blocks; the rest of the prompt is not hashed. */
  readonly maxBlocks: number
}

/**
 * Chained block hashes of a prompt, as GIE v1.1+ computes them:
 * `seed = xxh64(model ‖ cacheSalt)`, `h_i = xxh64(block_i ‖ LE64(h_{i−1}))` with `h_{−1} = seed`.
 * Blocks are UTF-8 bytes; a trailing partial block is not hashed, so a prompt shorter than one block has no hashes.
 */
export function hashPromptBlocks(model: string, cacheSalt: string, prompt: string, opts: BlockHashOptions): number[] {
  const size = opts.blockSizeChars
  const maxBytes = size * opts.maxBlocks
  // Each char encodes to ≥ 1 byte, so the first maxBytes chars are enough: long prompts are not encoded whole.
  // encodeInto a reused buffer keeps a 16 KB allocation per request off the young generation (fewer GC pauses).
  if (encoded.length < maxBytes) encoded = new Uint8Array(maxBytes)
  const { written } = utf8.encodeInto(prompt.length > maxBytes ? prompt.slice(0, maxBytes) : prompt, encoded.subarray(0, maxBytes))
  const bytes = encoded.subarray(0, written)
  const blocks = Math.min(Math.floor(written / size), opts.maxBlocks)
  const keys = new Array<number>(blocks)
  if (blocks === 0) return keys
  if (scratch.length !== size + 8) {
    scratch = new Uint8Array(size + 8)
    view = new DataView(scratch.buffer)
  }
  let prev = seedFor(model, cacheSalt)
  for (let i = 0; i < blocks; i++) {
    scratch.set(bytes.subarray(i * size, (i + 1) * size), 0)
    view.setBigUint64(size, prev, true)
    prev = xxh.h64Raw(scratch)
    keys[i] = Number(prev & KEY_MASK)
  }
  return keys
}
