import type { CounterDelta, CounterEntry, CounterState, Reservation } from './limit-store.js'

/**
 * A lease asks for this many requests' worth of units at most (a request counter's 256 requests, a token counter's 256
 * times the request's `want`). A token lease also holds the reservations of this replica's requests in flight until they
 * settle, so at concurrency c it covers about 256 − c requests per round trip (32 covered only 4–5 under 32 clients).
 */
export const LEASE_REQUESTS = 256

/**
 * Redis grants a lease at most this fraction (1/16) of the room left in the window, so leases shrink to nothing as a
 * counter nears its limit and the last units of a window are counted one request at a time, wherever they come from.
 */
export const LEASE_SHARE = 16

/** Leases nobody here used for this long go back to Redis, so other replicas can have the units. */
export const LEASE_IDLE_MS = 100

/** Units of one counter's current window that Redis has already counted for this replica and no request here has used. */
interface Lease {
  window: string
  /** Counted in Redis, not yet used here. */
  unused: number
  /** The counter's count in Redis when last heard from (it includes `unused`). */
  seen: number
  /** `performance.now()` at which Redis ends the window, at the earliest: the lease is void from then on. */
  endsAt: number
  /**
   * Redis granted all that was asked, so room was plentiful (≥ 16 leases left): tokens a request gives back may stay here.
   * A lease granted less holds the last units of a window and sends what is given back to Redis at once.
   */
  open: boolean
  touched: boolean
}

/**
 * The leases one replica holds on shared counters (Envoy's rate-limit-quota idea: a quota assigned to an instance, used
 * locally). A lease is part of a counter's count in Redis, taken by the same atomic script that checks and counts a
 * request, so admitting from it can never take a counter past its limit; what it costs is that units one replica holds are
 * not another's until they are used or given back (idle for `LEASE_IDLE_MS`), as with tokens reserved by requests in flight.
 */
export class CounterLeases {
  readonly #leases = new Map<string, Lease>()
  #sweeper: NodeJS.Timeout | undefined

  /** `giveBack`: where idle leases go (Redis, in the next batch). */
  constructor(private readonly giveBack: (returns: CounterDelta[]) => void) {}

  /** Admits a request from the leases alone when every counter's lease has room for it (a token counter: for `want`). */
  take(entries: readonly CounterEntry[], want: number): Reservation | undefined {
    const now = performance.now()
    for (const e of entries) {
      const lease = this.#leases.get(e.key)
      if (!lease || lease.endsAt <= now || lease.unused < (e.tokens ? want : 1)) return undefined
    }
    let tokens = false
    const states: CounterState[] = []
    for (const e of entries) {
      const lease = this.#leases.get(e.key)!
      lease.unused -= e.tokens ? want : 1
      lease.touched = true
      tokens ||= e.tokens
      states.push({ count: lease.seen - lease.unused, resetMs: lease.endsAt - now, window: lease.window })
    }
    return { admitted: true, granted: tokens ? want : 0, states }
  }

  /**
   * Before a request goes to Redis: the leases too small for it are given up, their units returned in the same script
   * (ahead of the request), so the request is checked against all the room there is.
   */
  surrender(entries: readonly CounterEntry[], want: number, returns: CounterDelta[]): void {
    for (const e of entries) {
      const lease = this.#leases.get(e.key)
      if (!lease || lease.unused >= (e.tokens ? want : 1)) continue
      this.#leases.delete(e.key)
      if (lease.unused > 0 && lease.endsAt > performance.now()) returns.push({ key: e.key, window: lease.window, delta: -lease.unused })
    }
  }

  /** How many units beyond the request's own a lease on this counter asks Redis for: a top-up to LEASE_REQUESTS requests' worth. */
  ask(entry: CounterEntry, want: number): number {
    return Math.max(0, LEASE_REQUESTS * (entry.tokens ? Math.max(want, 1) : 1) - (this.#leases.get(entry.key)?.unused ?? 0))
  }

  /**
   * Records Redis's answer for one counter: `extra` units counted for this replica beyond the request (`asked` were
   * asked for; 0 when this request asked for no lease, or was refused), the counter now at `count`, its window ending
   * `resetMs` after `sentAt` at the earliest (the script ran after the batch was sent). Returns the count the request
   * sees: what Redis counted, less what is still leased here.
   */
  grant(key: string, state: CounterState, extra: number, asked: number, sentAt: number): number {
    const held = this.#leases.get(key)
    if (!held && asked === 0) return state.count
    const lease = held?.window === state.window ? held : undefined
    const unused = (lease?.unused ?? 0) + extra
    const open = asked > 0 ? extra === asked : (lease?.open ?? false)
    this.#leases.set(key, { window: state.window, unused, seen: state.count, endsAt: sentAt + state.resetMs, open, touched: true })
    this.#sweeper ??= setInterval(() => this.#sweep(), LEASE_IDLE_MS).unref()
    return state.count - unused
  }

  /** Takes a settle (`delta` > 0 uses more, < 0 gives back) locally when an open lease of that window can hold it. */
  settle(key: string, window: string, delta: number): boolean {
    const lease = this.#leases.get(key)
    if (!lease || !lease.open || lease.window !== window || lease.endsAt <= performance.now() || lease.unused < delta) return false
    lease.unused -= delta
    lease.touched = true
    return true
  }

  /** Gives every lease back (closing). */
  returnAll(): CounterDelta[] {
    const returns: CounterDelta[] = []
    const now = performance.now()
    for (const [key, lease] of this.#leases) if (lease.unused > 0 && lease.endsAt > now) returns.push({ key, window: lease.window, delta: -lease.unused })
    this.clear()
    return returns
  }

  /** Forgets every lease without giving it back: Redis is gone, and with it any certainty about what it counted. */
  clear(): void {
    this.#leases.clear()
    clearInterval(this.#sweeper)
    this.#sweeper = undefined
  }

  #sweep(): void {
    const now = performance.now()
    const returns: CounterDelta[] = []
    for (const [key, lease] of this.#leases) {
      if (lease.endsAt <= now) this.#leases.delete(key)
      else if (!lease.touched) {
        this.#leases.delete(key)
        if (lease.unused > 0) returns.push({ key, window: lease.window, delta: -lease.unused })
      } else lease.touched = false
    }
    if (this.#leases.size === 0) this.clear()
    if (returns.length > 0) this.giveBack(returns)
  }
}
