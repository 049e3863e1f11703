/**
 * Requests this picker has sent and not yet seen complete, per endpoint (llm-d's `inflight-load-producer`).
 * Entries expire after `ttlMs`, so a lost completion cannot pin an endpoint as busy forever.
 */
export class InFlightTracker {
  readonly #byRequest = new Map<string, { endpointId: string; tokens: number; expires: number }>()
  readonly #byEndpoint = new Map<string, { requests: number; tokens: number }>()

  constructor(public ttlMs: number) {}

  add(requestId: string, endpointId: string, tokens: number, now: number): void {
    this.remove(requestId)
    this.#byRequest.set(requestId, { endpointId, tokens, expires: now + this.ttlMs })
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

  /** Drops expired entries; insertion order is expiry order (one TTL), so this stops at the first live one. */
  expire(now: number): void {
    for (const [id, entry] of this.#byRequest) {
      if (entry.expires > now) break
      this.remove(id)
    }
  }

  /** The endpoint's load now (a live view: read it, do not keep it). */
  load(endpointId: string): Readonly<{ requests: number; tokens: number }> {
    return this.#byEndpoint.get(endpointId) ?? IDLE
  }
}

const IDLE: Readonly<{ requests: number; tokens: number }> = Object.freeze({ requests: 0, tokens: 0 })
