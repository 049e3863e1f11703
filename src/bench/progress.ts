import cliProgress from 'cli-progress'
import { LatencyHistogram } from './latency-histogram.js'
import type { ProgressSink } from './run-benchmark.js'
import type { RequestRecord } from './request-record.js'
import type { RunLimits } from './run-strategy.js'

/** The last this-many seconds make the "current" rate and the rolling TTFT p50. */
const ROLLING_S = 5
const LINE_INTERVAL_MS = 5000

interface Tally {
  strategy: string
  limits: RunLimits
  startedAt: number
  done: number
  errors: number
  recent: { at: number; ttftMs: number | undefined }[]
}

function rolling(t: Tally): { rate: number; ttftP50: number } {
  const now = performance.now()
  while (t.recent.length > 0 && t.recent[0]!.at < now - ROLLING_S * 1000) t.recent.shift()
  const span = Math.min(ROLLING_S, (now - t.startedAt) / 1000)
  const ttft = LatencyHistogram.of(t.recent.flatMap((r) => (r.ttftMs === undefined ? [] : [r.ttftMs])))
  return { rate: span > 0 ? t.recent.length / span : 0, ttftP50: ttft.percentile(50) }
}

const count = (t: Tally, r: RequestRecord) => {
  t.done++
  if (r.status === 'error') t.errors++
  t.recent.push({ at: performance.now(), ttftMs: r.ttftMs })
}

/**
 * On a terminal: a cli-progress bar per strategy (requests, or seconds when only time bounds the run) with elapsed time,
 * requests done, the current rate and the rolling TTFT p50. Elsewhere (CI, pipes): a plain line every 5 s.
 */
export function createProgress(stream: NodeJS.WriteStream): ProgressSink {
  return stream.isTTY ? new BarProgress(stream) : new LineProgress(stream)
}

class BarProgress implements ProgressSink {
  #bar: cliProgress.SingleBar | undefined
  #tally: Tally | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(private readonly stream: NodeJS.WriteStream) {}

  start(strategy: string, limits: RunLimits): void {
    this.#tally = { strategy, limits, startedAt: performance.now(), done: 0, errors: 0, recent: [] }
    const byRequests = limits.maxRequests !== undefined
    this.#bar = new cliProgress.SingleBar(
      {
        stream: this.stream,
        format: `${strategy.padEnd(20)} {bar} {value}/{total}${byRequests ? '' : ' s'} | {elapsed} s | done {done} (err {errors}) | {rate} req/s | TTFT p50 {ttft} ms`,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    )
    this.#bar.start(limits.maxRequests ?? Math.ceil(limits.maxSeconds ?? 0), 0, this.#payload())
    this.#timer = setInterval(() => this.#update(), 250)
  }

  record(record: RequestRecord): void {
    if (this.#tally) count(this.#tally, record)
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#update()
    this.#bar?.stop()
  }

  #update(): void {
    const t = this.#tally
    if (!t || !this.#bar) return
    const elapsed = (performance.now() - t.startedAt) / 1000
    this.#bar.update(t.limits.maxRequests !== undefined ? t.done : Math.min(Math.floor(elapsed), t.limits.maxSeconds ?? 0), this.#payload())
  }

  #payload() {
    const t = this.#tally!
    const { rate, ttftP50 } = rolling(t)
    return { elapsed: ((performance.now() - t.startedAt) / 1000).toFixed(0), done: t.done, errors: t.errors, rate: rate.toFixed(1), ttft: ttftP50.toFixed(0) }
  }
}

class LineProgress implements ProgressSink {
  #tally: Tally | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(private readonly stream: NodeJS.WriteStream) {}

  start(strategy: string, limits: RunLimits): void {
    this.#tally = { strategy, limits, startedAt: performance.now(), done: 0, errors: 0, recent: [] }
    this.#timer = setInterval(() => this.#line(), LINE_INTERVAL_MS)
    this.#timer.unref()
  }

  record(record: RequestRecord): void {
    if (this.#tally) count(this.#tally, record)
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#line()
  }

  #line(): void {
    const t = this.#tally
    if (!t) return
    const { rate, ttftP50 } = rolling(t)
    this.stream.write(
      `bench: ${t.strategy}: ${((performance.now() - t.startedAt) / 1000).toFixed(0)} s, ${t.done} done (${t.errors} errors), ${rate.toFixed(1)} req/s, TTFT p50 ${ttftP50.toFixed(0)} ms\n`,
    )
  }
}
