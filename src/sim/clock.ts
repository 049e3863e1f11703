// The engine's notion of time, injected so tests can drive it by hand. Times are simulated milliseconds; a real clock maps
// them to wall time through the time scale (wall = simulated / timeScale), so tests can run 10–100× faster than real time.

export interface TimerHandle {
  cancel(): void
}

export interface Clock {
  /** Simulated milliseconds since an arbitrary origin. */
  now(): number
  /** Runs `fn` once `delayMs` simulated milliseconds have passed. */
  setTimer(fn: () => void, delayMs: number): TimerHandle
}

export class ScaledClock implements Clock {
  /** performance.now() at simulated time 0. */
  readonly origin = performance.now()

  constructor(private readonly timeScale = 1) {}

  now(): number {
    return (performance.now() - this.origin) * this.timeScale
  }

  /**
   * Fires at the absolute wall-clock instant the delay names, to a few tens of µs: setTimeout alone fires up to a
   * millisecond late (whole-ms timers) or early (it counts from the event loop's cached time, stale after a long task), so
   * it only brings us near the target and setImmediate polls the rest, letting I/O run in between. The polled stretch is at
   * most a quarter of the delay, so short timers (high time scales) do not keep a core busy.
   */
  setTimer(fn: () => void, delayMs: number): TimerHandle {
    const wallMs = Math.max(0, delayMs) / this.timeScale
    const due = performance.now() + wallMs
    const spinMs = Math.min(SPIN_MS, wallMs / 4)
    let timer: NodeJS.Timeout | undefined
    let immediate: NodeJS.Immediate | undefined
    const wait = () => {
      const left = due - performance.now()
      if (left > spinMs) timer = setTimeout(check, left - spinMs)
      else immediate = setImmediate(check)
    }
    const check = () => (performance.now() >= due ? fn() : wait())
    wait()
    return {
      cancel: () => {
        clearTimeout(timer)
        clearImmediate(immediate)
      },
    }
  }
}

/** The longest stretch before a ScaledClock timer's target that is polled rather than slept (setTimeout's error is ≤ 1 ms). */
const SPIN_MS = 1.5

/** A clock that moves only when told to: `advance(ms)` fires the timers that come due, in order. */
export class ManualClock implements Clock {
  private time = 0
  private seq = 0
  private timers: { at: number; seq: number; fn: () => void }[] = []

  now(): number {
    return this.time
  }

  setTimer(fn: () => void, delayMs: number): TimerHandle {
    const timer = { at: this.time + Math.max(0, delayMs), seq: this.seq++, fn }
    this.timers.push(timer)
    return { cancel: () => (this.timers = this.timers.filter((t) => t !== timer)) }
  }

  advance(ms: number): void {
    const end = this.time + ms
    for (;;) {
      const next = this.timers.reduce<(typeof this.timers)[number] | undefined>(
        (a, t) => (a === undefined || t.at < a.at || (t.at === a.at && t.seq < a.seq) ? t : a),
        undefined,
      )
      if (next === undefined || next.at > end) break
      this.timers = this.timers.filter((t) => t !== next)
      this.time = next.at
      next.fn()
    }
    this.time = end
  }

  /** Advances until no timer is pending (or `limitMs` has passed). */
  runAll(limitMs = 3_600_000): void {
    const end = this.time + limitMs
    while (this.timers.length > 0 && this.time < end) {
      const next = Math.min(...this.timers.map((t) => t.at))
      this.advance(Math.max(0, next - this.time))
    }
  }
}
