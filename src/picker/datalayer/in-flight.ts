import { LinkedList, type ListNode } from '../linked-list.js'

/** One endpoint's requests and tokens in flight. */
interface EndpointLoad {
  requests: number
  tokens: number
}

interface Entry {
  readonly load: EndpointLoad
  readonly tokens: number
  readonly expires: number
}

/** What `add` hands out, for `remove` (kept on the pick's decision, not looked up by request id). */
export type InFlightEntry = ListNode<Entry>

/**
 * Requests this picker has sent and not yet seen complete, per endpoint (llm-d's `inflight-load-producer`).
 * Entries expire after `ttlMs`, so a lost completion cannot pin an endpoint as busy forever. Entries sit in a list in
 * insertion order, which is expiry order (one TTL), not in a map by request id: see LinkedList.
 */
export class InFlightTracker {
  readonly #entries = new LinkedList<Entry>()
  /** Per endpoint id, kept while the endpoint is in the pool (an idle endpoint's zeroes stay, rather than churn). */
  readonly #byEndpoint = new Map<string, EndpointLoad>()

  constructor(public ttlMs: number) {}

  add(endpointId: string, tokens: number, now: number): InFlightEntry {
    let load = this.#byEndpoint.get(endpointId)
    if (!load) this.#byEndpoint.set(endpointId, (load = { requests: 0, tokens: 0 }))
    load.requests++
    load.tokens += tokens
    return this.#entries.push({ load, tokens, expires: now + this.ttlMs })
  }

  /** Ends the entry `add` handed out (anything else, a second call, or one after it expired, changes nothing). */
  remove(entry: unknown): void {
    const e = this.#entries.take(entry)
    if (e) release(e)
  }

  /** Drops expired entries: the oldest first, stopping at the first live one (so it costs nothing until one is due). */
  expire(now: number): void {
    for (let oldest = this.#entries.first; oldest && oldest.expires <= now; oldest = this.#entries.first) {
      this.#entries.shift()
      release(oldest)
    }
  }

  /** The endpoint left the pool: its load is no longer reported (entries still in flight end harmlessly). */
  forget(endpointId: string): void {
    this.#byEndpoint.delete(endpointId)
  }

  /** The endpoint's load now (a live view: read it, do not keep it). */
  load(endpointId: string): Readonly<EndpointLoad> {
    return this.#byEndpoint.get(endpointId) ?? IDLE
  }
}

function release(entry: Entry): void {
  entry.load.requests--
  entry.load.tokens -= entry.tokens
}

const IDLE: Readonly<EndpointLoad> = Object.freeze({ requests: 0, tokens: 0 })
