import { Dealer, Subscriber } from 'zeromq'
import type { EndpointRef, KvEventsAddress } from '../endpoint.js'
import type { KvBlockIndex } from './kv-block-index.js'
import { decodeKvEventBatch } from './kv-event-decoder.js'

// The data layer's side of precise prefix routing: one ZMQ SUB socket per endpoint of the pool on its KV events, feeding
// the global block index. Batches carry a sequence number: a gap means lost batches (a PUB drops past its high-water mark,
// and a late joiner misses the start), repaired by a replay from the engine's ROUTER when it has one, or else by
// forgetting what the index holds for that endpoint (a resync: it rebuilds as new blocks are stored).

export interface KvEventsSubscriberOptions {
  readonly topicFilter: string
  /** Where an endpoint that does not advertise its events publishes them: this port on its host (vLLM's 5557). */
  readonly defaultPort: number
  /** Likewise for replay; none when undefined. */
  readonly defaultReplayPort?: number | undefined
  /** An endpoint sent requests but silent for this long is stale (its index entries are not trusted). */
  readonly staleAfterMs: number
  /** How long a replay may take before the subscriber resyncs instead. */
  readonly replayTimeoutMs: number
  readonly now: () => number
  readonly onError?: (endpointId: string, message: string) => void
}

export interface KvEventsEndpointStats {
  readonly address: string
  readonly batches: number
  readonly lastSequence: bigint | null
  readonly gaps: number
  readonly replays: number
  readonly resyncs: number
  readonly orphans: number
}

interface Subscription {
  readonly id: string
  readonly address: KvEventsAddress
  readonly socket: Subscriber
  lastSeq: bigint | null
  /** When a request was sent there with no event since; undefined while it keeps publishing. */
  expectingSince: number | undefined
  batches: number
  gaps: number
  replays: number
  resyncs: number
  orphans: number
  mismatchReported: boolean
}

const END_SEQ = 0xffff_ffff_ffff_ffffn

export class KvEventsSubscriber {
  readonly #subs = new Map<string, Subscription>()
  #closed = false

  constructor(
    readonly index: KvBlockIndex,
    readonly options: KvEventsSubscriberOptions,
  ) {}

  /** Subscribes to new endpoints (and to moved ones again), drops removed ones from the index. */
  setEndpoints(refs: readonly EndpointRef[]): void {
    if (this.#closed) return
    const next = new Map(refs.map((r) => [r.id, this.#addressOf(r)]))
    for (const [id, sub] of this.#subs) {
      const address = next.get(id)
      if (address && address.endpoint === sub.address.endpoint && address.replayEndpoint === sub.address.replayEndpoint) continue
      sub.socket.close()
      this.#subs.delete(id)
      this.index.removeEndpoint(id)
    }
    for (const [id, address] of next) if (!this.#subs.has(id)) this.#subscribe(id, address)
  }

  /** A request was just sent to the endpoint: if it stays silent from now on, it goes stale. */
  expectEvents(endpointId: string, now: number): void {
    const sub = this.#subs.get(endpointId)
    if (sub && sub.expectingSince === undefined) sub.expectingSince = now
  }

  /** Whether the index can be trusted for this endpoint: subscribed, and not silent while it was sent requests. */
  isFresh(endpointId: string, now: number): boolean {
    const sub = this.#subs.get(endpointId)
    return sub !== undefined && (sub.expectingSince === undefined || now - sub.expectingSince <= this.options.staleAfterMs)
  }

  stats(): Map<string, KvEventsEndpointStats> {
    return new Map(
      [...this.#subs].map(([id, s]) => [id, { address: s.address.endpoint, batches: s.batches, lastSequence: s.lastSeq, gaps: s.gaps, replays: s.replays, resyncs: s.resyncs, orphans: s.orphans }]),
    )
  }

  close(): void {
    this.#closed = true
    for (const sub of this.#subs.values()) sub.socket.close()
    this.#subs.clear()
  }

  #addressOf(ref: EndpointRef): KvEventsAddress {
    if (ref.kvEvents) return ref.kvEvents
    const host = ref.address.slice(0, ref.address.lastIndexOf(':'))
    const replayPort = this.options.defaultReplayPort
    return { endpoint: `tcp://${host}:${this.options.defaultPort}`, ...(replayPort !== undefined ? { replayEndpoint: `tcp://${host}:${replayPort}` } : {}) }
  }

  #subscribe(id: string, address: KvEventsAddress): void {
    const socket = new Subscriber({ linger: 0, receiveHighWaterMark: 100_000 })
    const sub: Subscription = { id, address, socket, lastSeq: null, expectingSince: undefined, batches: 0, gaps: 0, replays: 0, resyncs: 0, orphans: 0, mismatchReported: false }
    this.#subs.set(id, sub)
    try {
      socket.connect(address.endpoint)
      socket.subscribe(this.options.topicFilter)
    } catch (err) {
      this.options.onError?.(id, `cannot subscribe to ${address.endpoint}: ${(err as Error).message}`)
      return
    }
    void this.#receive(sub)
  }

  async #receive(sub: Subscription): Promise<void> {
    try {
      for await (const [, seqFrame, payload] of sub.socket) {
        if (seqFrame?.length !== 8 || payload === undefined) {
          this.options.onError?.(sub.id, 'a KV events message without (topic, sequence, payload) frames')
          continue
        }
        const seq = seqFrame.readBigUInt64BE()
        if (sub.lastSeq !== null && seq <= sub.lastSeq) {
          if (seq === sub.lastSeq) continue
          // The sequence went back: the engine restarted, and its cache with it.
          this.#resync(sub)
        }
        // With a replay endpoint a late joiner catches up from the first batch still buffered.
        const expected = sub.lastSeq !== null ? sub.lastSeq + 1n : sub.address.replayEndpoint !== undefined ? 0n : seq
        if (seq > expected) await this.#recover(sub, expected, seq)
        if (this.#subs.get(sub.id) !== sub) return
        this.#apply(sub, seq, payload)
      }
    } catch (err) {
      if (this.#subs.get(sub.id) === sub) this.options.onError?.(sub.id, `KV events stream ended: ${(err as Error).message}`)
    }
  }

  #apply(sub: Subscription, seq: bigint, payload: Buffer): void {
    sub.lastSeq = seq
    sub.batches++
    sub.expectingSince = undefined
    let batch
    try {
      batch = decodeKvEventBatch(payload)
    } catch (err) {
      this.options.onError?.(sub.id, `batch ${seq}: ${(err as Error).message}`)
      return this.#resync(sub)
    }
    for (const event of batch.events) {
      const outcome = this.index.apply(sub.id, event)
      // A store whose parent the index does not hold (lost before a resync, or before this subscriber joined) cannot be
      // keyed; a prefix walk could not reach it anyway.
      if (outcome === 'orphan') sub.orphans++
      else if (outcome === 'block-size-mismatch' && !sub.mismatchReported) {
        sub.mismatchReported = true
        this.options.onError?.(sub.id, `the engine's block size differs from the index's ${this.index.blockSize}`)
      }
    }
  }

  /** Replays batches [from, until) from the engine's buffer; resyncs when there is no replay or it fails. */
  async #recover(sub: Subscription, from: bigint, until: bigint): Promise<void> {
    if (sub.lastSeq !== null || from > 0n) sub.gaps++
    const replayAt = sub.address.replayEndpoint
    if (replayAt === undefined) return this.#resync(sub)
    const dealer = new Dealer({ linger: 0, receiveTimeout: this.options.replayTimeoutMs })
    try {
      dealer.connect(replayAt)
      const start = Buffer.alloc(8)
      start.writeBigUInt64BE(from)
      await dealer.send(['', start])
      sub.replays++
      for (;;) {
        const [, seqFrame, payload] = await dealer.receive()
        if (seqFrame?.length !== 8) throw new Error('a replay message without a sequence frame')
        const seq = seqFrame.readBigUInt64BE()
        if (seq === END_SEQ) break
        if (seq >= until || payload === undefined) continue
        if (sub.lastSeq !== null && seq <= sub.lastSeq) continue
        if (sub.lastSeq !== null && seq !== sub.lastSeq + 1n) this.#resync(sub)
        this.#apply(sub, seq, payload)
      }
      if (sub.lastSeq === null || sub.lastSeq + 1n < until) this.#resync(sub)
    } catch (err) {
      this.options.onError?.(sub.id, `replay from ${replayAt} failed: ${(err as Error).message}`)
      this.#resync(sub)
    } finally {
      dealer.close()
    }
  }

  #resync(sub: Subscription): void {
    sub.resyncs++
    this.index.clearEndpoint(sub.id)
  }
}
