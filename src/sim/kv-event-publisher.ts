import { encode } from '@msgpack/msgpack'
import { Publisher, Router } from 'zeromq'
import type { BlockHash } from './block-hash.js'
import type { KvCacheEventSink } from './kv-block-manager.js'

// vLLM's KV events (vllm/distributed/kv_events.py, spec/sim-vllm-guidellm.md §3) as its ZmqEventPublisher sends them: a
// PUB socket, one message per engine step of three frames (topic, sequence as 8-byte big-endian, msgpack KVEventBatch),
// and an optional ROUTER that replays buffered batches from a requested sequence, ending with sequence −1.

export interface KvEventsConfig {
  /** Bound when it has `*`, `::`, ipc:// or inproc:// (vLLM's rule), connected otherwise. The port is offset by the DP rank. */
  readonly endpoint: string
  readonly replayEndpoint?: string | undefined
  readonly topic: string
  /** Batches kept for replay (vLLM buffer_steps). */
  readonly bufferSteps: number
  /** Named-map events (`{type: "BlockStored", …}`) instead of vLLM's positional arrays. */
  readonly mapFormat: boolean
  readonly dataParallelRank: number
}

/** The replay stream's end marker: (-1).to_bytes(8, "big", signed=True). */
export const END_SEQ = Buffer.alloc(8, 0xff)

type Event = unknown[] | Record<string, unknown>

/** vLLM sends a block hash as the low 64 bits of its bytes read big-endian (VLLM_KV_EVENTS_USE_INT_BLOCK_HASHES=1, the default). */
export function eventBlockHash(hash: BlockHash): bigint {
  return BigInt(`0x${hash.slice(-16)}`)
}

/** The address a ZMQ endpoint binds or connects with the data-parallel rank's port offset. */
export function offsetEndpoint(endpoint: string, rank: number): string {
  if (rank === 0) return endpoint
  return endpoint.replace(/:(\d+)$/, (_, port: string) => `:${Number(port) + rank}`)
}

const binds = (endpoint: string) => endpoint.includes('*') || endpoint.includes('::') || /^(ipc|inproc):/.test(endpoint)

export class KvEventPublisher implements KvCacheEventSink {
  #pending: Event[] = []
  #seq = 0n
  /** The last `bufferSteps` batches as sent, for replay. */
  readonly #buffer: { seq: Buffer; payload: Uint8Array }[] = []
  #sending: Promise<void> = Promise.resolve()
  #flushScheduled = false
  #closed = false

  private constructor(
    private readonly config: KvEventsConfig,
    private readonly blockSize: number,
    private readonly pub: Publisher,
    private readonly replay: Router | null,
    /** Where subscribers reach it: the bound address (a wildcard port resolved), or the connected one. */
    readonly endpoint: string,
    readonly replayEndpoint: string | undefined,
  ) {
    if (replay) void this.#serveReplay(replay)
  }

  /** `advertiseHost` replaces a wildcard host (`*`, 0.0.0.0) in the advertised addresses. */
  static async start(config: KvEventsConfig, blockSize: number, advertiseHost: string): Promise<KvEventPublisher> {
    const pub = new Publisher({ sendHighWaterMark: 100_000, linger: 0 })
    const endpoint = offsetEndpoint(config.endpoint, config.dataParallelRank)
    const bound = await open(pub, endpoint, advertiseHost)
    let replay: Router | null = null
    let replayBound: string | undefined
    if (config.replayEndpoint !== undefined) {
      replay = new Router({ linger: 0 })
      replayBound = await open(replay, offsetEndpoint(config.replayEndpoint, config.dataParallelRank), advertiseHost)
    }
    return new KvEventPublisher(config, blockSize, pub, replay, bound, replayBound)
  }

  blockStored(hashes: readonly BlockHash[], parent: BlockHash | null, tokenIds: ArrayLike<number>, firstToken: number, loraName: string | null): void {
    const tokens = Array.from({ length: hashes.length * this.blockSize }, (_, i) => tokenIds[firstToken + i] as number)
    const fields = {
      block_hashes: hashes.map(eventBlockHash),
      parent_block_hash: parent === null ? null : eventBlockHash(parent),
      token_ids: tokens,
      block_size: this.blockSize,
      lora_id: null,
      medium: 'GPU',
      lora_name: loraName,
    }
    this.#push('BlockStored', fields)
  }

  blockRemoved(hash: BlockHash): void {
    this.#push('BlockRemoved', { block_hashes: [eventBlockHash(hash)], medium: 'GPU' })
  }

  allBlocksCleared(): void {
    this.#push('AllBlocksCleared', {})
  }

  /** Sequence number of the next batch. */
  get nextSequence(): bigint {
    return this.#seq
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#flush()
    this.#closed = true
    await this.#sending
    this.pub.close()
    this.replay?.close()
  }

  #push(type: string, fields: Record<string, unknown>): void {
    if (this.#closed) return
    this.#pending.push(this.config.mapFormat ? { type, ...fields } : [type, ...Object.values(fields)])
    // One batch per engine step: a step's stores and evictions happen in one turn of the event loop.
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      setImmediate(() => this.#flush())
    }
  }

  #flush(): void {
    this.#flushScheduled = false
    if (this.#pending.length === 0 || this.#closed) return
    const events = this.#pending
    this.#pending = []
    const ts = Date.now() / 1000
    const rank = this.config.dataParallelRank
    const batch = this.config.mapFormat ? { ts, events, data_parallel_rank: rank } : [ts, events, rank]
    const payload = encode(batch, { useBigInt64: true })
    const seq = Buffer.alloc(8)
    seq.writeBigUInt64BE(this.#seq++)
    this.#buffer.push({ seq, payload })
    if (this.#buffer.length > this.config.bufferSteps) this.#buffer.shift()
    // zeromq.js allows one send in flight per socket; a PUB never blocks (past its high-water mark it drops).
    this.#sending = this.#sending.then(() => this.pub.send([this.config.topic, seq, payload])).catch(() => {})
  }

  /** A client sends (empty, start sequence); it gets every buffered batch from there, then the end marker. */
  async #serveReplay(router: Router): Promise<void> {
    try {
      for await (const [client, , start] of router) {
        if (client === undefined || start?.length !== 8) continue
        const from = start.readBigUInt64BE()
        for (const { seq, payload } of this.#buffer) {
          if (seq.readBigUInt64BE() >= from) await router.send([client, '', seq, payload])
        }
        await router.send([client, '', END_SEQ, ''])
      }
    } catch {
      // The socket was closed (close() ends the loop this way).
    }
  }
}

async function open(socket: Publisher | Router, endpoint: string, advertiseHost: string): Promise<string> {
  if (!binds(endpoint)) {
    socket.connect(endpoint)
    return endpoint
  }
  await socket.bind(endpoint)
  const last = socket.lastEndpoint ?? endpoint
  return last.replace(/^tcp:\/\/(0\.0\.0\.0|\*|\[::\])(?=:)/, `tcp://${advertiseHost.includes(':') ? `[${advertiseHost}]` : advertiseHost}`)
}
