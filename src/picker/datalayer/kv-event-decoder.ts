import { decode } from '@msgpack/msgpack'

// vLLM's KVEventBatch as msgspec writes it (vllm/distributed/kv_events.py): by default positional arrays, each event tagged
// with its class name first and trailing default fields omitted; or named maps with a `type` tag (vLLM PR #42892,
// llm-d-inference-sim --use-vllm-map-event-format). Block hashes are 64-bit ints (VLLM_KV_EVENTS_USE_INT_BLOCK_HASHES=1,
// the default) or the raw hash bytes.

/** An engine's block hash as sent: a 64-bit int, or the hash bytes as hex. */
export type EngineBlockKey = bigint | string

export type KvEvent =
  | {
      readonly type: 'BlockStored'
      readonly blockHashes: readonly EngineBlockKey[]
      readonly parentBlockHash: EngineBlockKey | null
      readonly tokenIds: readonly number[]
      readonly blockSize: number
      readonly loraName: string | null
      readonly medium: string | null
    }
  | { readonly type: 'BlockRemoved'; readonly blockHashes: readonly EngineBlockKey[]; readonly medium: string | null }
  | { readonly type: 'AllBlocksCleared' }

export interface KvEventBatch {
  readonly ts: number
  readonly events: readonly KvEvent[]
  readonly dataParallelRank: number | null
}

export class KvEventDecodeError extends Error {}

/** Field order of each tagged event in the positional form (after the tag). */
const FIELDS = {
  BlockStored: ['block_hashes', 'parent_block_hash', 'token_ids', 'block_size', 'lora_id', 'medium', 'lora_name'],
  BlockRemoved: ['block_hashes', 'medium'],
  AllBlocksCleared: [],
} as const

export function decodeKvEventBatch(payload: Uint8Array): KvEventBatch {
  let raw: unknown
  try {
    raw = decode(payload, { useBigInt64: true })
  } catch (err) {
    throw new KvEventDecodeError(`not msgpack: ${(err as Error).message}`)
  }
  const named = Array.isArray(raw) ? { ts: raw[0], events: raw[1], data_parallel_rank: raw[2] } : (raw as Record<string, unknown> | null)
  if (named === null || typeof named !== 'object' || !Array.isArray(named.events)) throw new KvEventDecodeError('not a KVEventBatch [ts, events, data_parallel_rank]')
  const events: KvEvent[] = []
  for (const e of named.events as unknown[]) {
    const event = decodeEvent(e)
    if (event) events.push(event)
  }
  const rank = named.data_parallel_rank
  return { ts: Number(named.ts ?? 0), events, dataParallelRank: rank === undefined || rank === null ? null : Number(rank) }
}

/** One event, or undefined for an event type this index does not use (newer vLLMs add some). */
function decodeEvent(e: unknown): KvEvent | undefined {
  let type: unknown
  let f: Record<string, unknown>
  if (Array.isArray(e)) {
    type = e[0]
    const names: readonly string[] = FIELDS[type as keyof typeof FIELDS] ?? []
    f = Object.fromEntries(names.map((name, i) => [name, e[i + 1]]))
  } else if (e !== null && typeof e === 'object') {
    f = e as Record<string, unknown>
    type = f.type
  } else {
    throw new KvEventDecodeError('an event is neither an array nor a map')
  }
  switch (type) {
    case 'BlockStored': {
      const tokenIds = f.token_ids
      if (!Array.isArray(tokenIds)) throw new KvEventDecodeError('BlockStored without token_ids')
      return {
        type,
        blockHashes: hashes(f.block_hashes, type),
        parentBlockHash: f.parent_block_hash === null || f.parent_block_hash === undefined ? null : key(f.parent_block_hash),
        tokenIds: tokenIds.map(Number),
        blockSize: Number(f.block_size),
        loraName: typeof f.lora_name === 'string' ? f.lora_name : null,
        medium: typeof f.medium === 'string' ? f.medium : null,
      }
    }
    case 'BlockRemoved':
      return { type, blockHashes: hashes(f.block_hashes, type), medium: typeof f.medium === 'string' ? f.medium : null }
    case 'AllBlocksCleared':
      return { type }
    default:
      return undefined
  }
}

function hashes(value: unknown, type: string): EngineBlockKey[] {
  if (!Array.isArray(value)) throw new KvEventDecodeError(`${type} without block_hashes`)
  return value.map(key)
}

/** Ints of any width are one key space (msgpack writes small ones compactly); bytes become hex. */
function key(value: unknown): EngineBlockKey {
  if (typeof value === 'bigint') return BigInt.asUintN(64, value)
  if (typeof value === 'number') return BigInt.asUintN(64, BigInt(value))
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')
  throw new KvEventDecodeError(`a block hash is a ${typeof value}`)
}
