/** One counter a request counts against: a limit's rate, for one value of its counters. */
export interface CounterEntry {
  key: string
  limit: number
  windowMs: number
  /** Token counters take the request's reservation; request counters take 1. */
  tokens: boolean
}

/** A counter's state after a reservation (or when it refused one). */
export interface CounterState {
  /** Hits counted in the current window (after this reservation when admitted). */
  count: number
  /** Milliseconds until the window ends. */
  resetMs: number
  /** Identifies the window (its start), so a late settle never touches the next window. */
  window: string
}

/** Units to add to one counter in the window named (negative to give back): a settle, or a lease returned. */
export interface CounterDelta {
  key: string
  window: string
  delta: number
}

export interface Reservation {
  admitted: boolean
  /** Tokens reserved on every token counter (0 when there are none or the request was refused). */
  granted: number
  states: CounterState[]
}

/**
 * Where counters live. `reserve` is atomic (Limitador's semantics): every entry is checked before any is incremented —
 * request counters must have room for 1, token counters for `need`; if all do, request counters take 1 and token counters
 * take min(`want`, the least room left). Windows are fixed and start at a counter's first hit. A store that can answer at
 * once (in memory, or from a lease) does so without a promise: the request path then takes no event-loop turn for it.
 */
export interface LimitStore {
  reserve(entries: readonly CounterEntry[], need: number, want: number): Reservation | Promise<Reservation>
  /** Adds `delta` (negative to give back) to each counter whose window is still the one named; a promise when it is not done yet. */
  adjust(entries: readonly { key: string; window: string }[], delta: number): Promise<void> | undefined
  close(): Promise<void>
}
