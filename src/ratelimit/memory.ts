import type { CounterEntry, CounterState, LimitStore, Reservation } from './limit-store.js'

interface Counter {
  count: number
  expiresAt: number
  window: string
}

/** Counters in this process (the default: one gateway process). Expired counters are swept once per second. */
export class MemoryLimitStore implements LimitStore {
  readonly #counters = new Map<string, Counter>()
  readonly #sweeper: NodeJS.Timeout

  constructor(private readonly now: () => number = Date.now) {
    this.#sweeper = setInterval(() => this.#sweep(), 1000).unref()
  }

  reserve(entries: readonly CounterEntry[], need: number, want: number): Reservation {
    const now = this.now()
    const live = entries.map((e) => this.#live(e.key, now))
    let room = want
    let refused = false
    entries.forEach((e, i) => {
      const count = live[i]?.count ?? 0
      if (e.tokens) room = Math.min(room, e.limit - count)
      else if (count + 1 > e.limit) refused = true
    })
    const hasTokens = entries.some((e) => e.tokens)
    if (hasTokens && room < need) refused = true
    const granted = refused || !hasTokens ? 0 : room
    const states: CounterState[] = entries.map((e, i) => {
      let c = live[i]
      if (!refused) {
        if (!c) this.#counters.set(e.key, (c = { count: 0, expiresAt: now + e.windowMs, window: String(now) }))
        c.count += e.tokens ? granted : 1
      }
      return { count: c?.count ?? 0, resetMs: c ? c.expiresAt - now : e.windowMs, window: c?.window ?? '' }
    })
    return { admitted: !refused, granted, states }
  }

  adjust(entries: readonly { key: string; window: string }[], delta: number): undefined {
    const now = this.now()
    for (const e of entries) {
      const c = this.#live(e.key, now)
      if (c && c.window === e.window) c.count = Math.max(0, c.count + delta)
    }
    return undefined
  }

  close(): Promise<void> {
    clearInterval(this.#sweeper)
    this.#counters.clear()
    return Promise.resolve()
  }

  #live(key: string, now: number): Counter | undefined {
    const c = this.#counters.get(key)
    if (c && c.expiresAt <= now) {
      this.#counters.delete(key)
      return undefined
    }
    return c
  }

  #sweep(): void {
    const now = this.now()
    for (const [key, c] of this.#counters) if (c.expiresAt <= now) this.#counters.delete(key)
  }
}
