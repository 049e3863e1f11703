import type { CelContext } from '../auth/cel.js'
import type { CompiledLimits, LimitEntry } from './compiled-limits.js'
import type { LimitStore, Reservation } from './limit-store.js'
import { rateLimitHeaders } from './rate-limit-headers.js'

/** What happens when the counter store cannot answer: refuse with 503, or let requests through uncounted. */
export type FailureMode = 'fail-closed' | 'fail-open'

/**
 * Whether admitted answers carry the rate-limit headers: Limitador's `--rate-limit-headers` (NONE by default,
 * DRAFT_VERSION_03). A 429 always carries them, so a refused client knows when to come back.
 */
export type RateLimitHeadersMode = 'none' | 'draft-03'

export interface RateLimitBehaviour {
  failureMode: FailureMode
  headers: RateLimitHeadersMode
}

/** A token reservation held for a request until its real usage is known. */
export interface TokenHold {
  granted: number
  counters: { key: string; window: string }[]
}

export type LimitDecision =
  | { admitted: true; headers: Record<string, string> | undefined; hold: TokenHold | undefined; granted: number }
  | { admitted: false; status: 429 | 503; headers: Record<string, string>; message: string; entry: LimitEntry | undefined }

export interface LimitObserver {
  (entry: LimitEntry, result: 'admitted' | 'limited' | 'unavailable'): void
}

/**
 * The rate-limit stage: the request limits (RateLimitPolicy) and token limits (TokenRateLimitPolicy) in effect for a route,
 * checked in one atomic store call before the request is forwarded. Tokens: the request's worst case is reserved (at least
 * `need`, up to `want`), then settled to the real usage.
 */
export class RateLimiter {
  constructor(
    private readonly store: LimitStore,
    private readonly requests: CompiledLimits | undefined,
    private readonly tokens: CompiledLimits | undefined,
    private readonly behaviour: RateLimitBehaviour,
    private readonly observe: LimitObserver,
  ) {}

  get limitsTokens(): boolean {
    return this.tokens !== undefined
  }

  /**
   * `need`/`want` are the tokens to reserve; without them (no body) token limits are not counted. A store that answers at
   * once (in memory, from a lease) gives the decision at once, without a promise.
   */
  admit(context: CelContext, need: number, want: number): LimitDecision | Promise<LimitDecision> {
    const entries: LimitEntry[] = []
    this.requests?.collect(context, entries)
    if (need > 0) this.tokens?.collect(context, entries)
    if (entries.length === 0) return { admitted: true, headers: undefined, hold: undefined, granted: want }
    let reservation: Reservation | Promise<Reservation>
    try {
      reservation = this.store.reserve(entries, need, want)
    } catch (err) {
      return this.#unavailable(entries, want, err)
    }
    if (reservation instanceof Promise)
      return reservation.then(
        (r) => this.#decide(entries, need, want, r),
        (err: unknown) => this.#unavailable(entries, want, err),
      )
    return this.#decide(entries, need, want, reservation)
  }

  #unavailable(entries: readonly LimitEntry[], want: number, err: unknown): LimitDecision {
    for (const e of entries) this.observe(e, 'unavailable')
    if (this.behaviour.failureMode === 'fail-open') return { admitted: true, headers: undefined, hold: undefined, granted: want }
    return { admitted: false, status: 503, headers: {}, message: `rate limit store unavailable (failure mode fail-closed): ${(err as Error).message}`, entry: undefined }
  }

  #decide(entries: readonly LimitEntry[], need: number, want: number, reservation: Reservation): LimitDecision {
    const { states } = reservation
    if (!reservation.admitted) {
      // The counter that refused: a request counter already full, or the token counter with the least room.
      let worst = -1
      let worstRoom = Infinity
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!
        const room = e.limit - states[i]!.count - (e.tokens ? need : 1)
        if (room < 0 && room < worstRoom) ((worst = i), (worstRoom = room))
      }
      const entry = entries[worst === -1 ? 0 : worst]!
      const state = states[worst === -1 ? 0 : worst]!
      this.observe(entry, 'limited')
      const headers = rateLimitHeaders(entry.rate.headers, state, entry.limit - state.count)
      headers['retry-after'] = headers['x-ratelimit-reset']!
      const unit = entry.tokens ? 'tokens' : 'requests'
      return { admitted: false, status: 429, headers, message: `rate limit exceeded: ${entry.limit} ${unit} per ${entry.window} (${entry.policy}, limit ${entry.name})`, entry }
    }
    let closest = -1
    let closestLeft = Infinity
    let held: { key: string; window: string }[] | undefined
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!
      this.observe(e, 'admitted')
      if (e.tokens) (held ??= []).push({ key: e.key, window: states[i]!.window })
      else if (e.limit - states[i]!.count < closestLeft) ((closest = i), (closestLeft = e.limit - states[i]!.count))
    }
    const headers = closest >= 0 && this.behaviour.headers === 'draft-03' ? rateLimitHeaders(entries[closest]!.rate.headers, states[closest]!, closestLeft) : undefined
    const hold = held ? { granted: reservation.granted, counters: held } : undefined
    return { admitted: true, headers, hold, granted: hold ? reservation.granted : want }
  }

  /**
   * Settles a reservation to the tokens really used (0 gives it all back); a promise when the store has yet to count it.
   * Errors are the store's to log, never the request's.
   */
  settle(hold: TokenHold, used: number): Promise<void> | undefined {
    return this.store.adjust(hold.counters, used - hold.granted)
  }
}
