/**
 * Requests this picker has sent and not yet seen complete, per endpoint (llm-d's `inflight-load-producer`).
 * Entries expire after `ttlMs`, so a lost completion cannot pin an endpoint as busy forever.
 */
export class InFlightTracker {
  readonly #byRequest = new Map<string, { endpointId: string; tokens: number; expires: number }>()
  readonly #byEndpoint = new Map<string, { requests: number; tokens: number }>()
  /** No entry expires before this (the oldest entry's expiry when last looked; removals only make it later). */
  #nextExpiry = Infinity

  constructor(public ttlMs: number) {}

  add(requestId: string, endpointId: string, tokens: number, now: number): void {
    this.remove(requestId)
    const expires = now + this.ttlMs
    this.#byRequest.set(requestId, { endpointId, tokens, expires })
    if (expires < this.#nextExpiry) this.#nextExpiry = expires
    const load = this.#byEndpoint.get(endpointId)
    if (!load) this.#byEndpoint.set(endpointId, { requests: 1, tokens })
    else {
      load.requests++
      load.tokens += tokens
    }
  }

  remove(requestId: string): void {
    const entry = this.#byRequest.get(requestId)
    if (!entry) return
    this.#byRequest.delete(requestId)
    const load = this.#byEndpoint.get(entry.endpointId)
    if (!load) return
    if (load.requests <= 1) this.#byEndpoint.delete(entry.endpointId)
    else {
      load.requests--
      load.tokens -= entry.tokens
    }
  }

  /**
   * Drops expired entries; insertion order is expiry order (one TTL), so this stops at the first live one. It runs on
   * every pick, so it returns at once until the oldest entry seen can have expired: a Map iteration starts by skipping
   * the slots its deletions left at the front, which cost a microsecond per pick with 64 requests in flight.
   */
  expire(now: number): void {
    if (now < this.#nextExpiry) return
    this.#nextExpiry = Infinity
    for (const [id, entry] of this.#byRequest) {
      if (entry.expires > now) {
        this.#nextExpiry = entry.expires
        break
      }
      this.remove(id)
    }
  }

  /** The endpoint's load now (a live view: read it, do not keep it). */
  load(endpointId: string): Readonly<{ requests: number; tokens: number }> {
    return this.#byEndpoint.get(endpointId) ?? IDLE
  }
}

const IDLE: Readonly<{ requests: number; tokens: number }> = Object.freeze({ requests: 0, tokens: 0 })
