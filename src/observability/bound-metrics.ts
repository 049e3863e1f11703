import type { Registry } from 'prom-client'

/**
 * Counters and histograms for the per-request path, registered in a prom-client Registry (which formats and serves them
 * with every other metric). A series is resolved once for its label values, then updated with a field add: prom-client
 * validates and hashes the labels on every inc()/observe() (about a microsecond each), and the picker records half a
 * dozen values per request.
 */
abstract class BoundMetric<S> {
  readonly aggregator = 'sum'
  abstract readonly type: 'counter' | 'histogram'
  /** Series by their label values, one Map level per label (a lookup joins no strings). */
  readonly #byValue = new Map<string, unknown>()
  readonly #all: { labels: Record<string, string>; series: S }[] = []
  #unlabelled: S | undefined

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registers: readonly Registry[],
  ) {
    for (const r of registers) r.registerMetric(this as never)
  }

  /** The series for these label values, in `labelNames` order (created at first use; keep it where you can). */
  labels(...values: string[]): S {
    const n = this.labelNames.length
    if (values.length !== n) throw new Error(`${this.name}: expected ${n} label values, got ${values.length}`)
    if (n === 0) return (this.#unlabelled ??= this.#add(values))
    let level = this.#byValue
    for (let i = 0; i < n - 1; i++) {
      let next = level.get(values[i]!) as Map<string, unknown> | undefined
      if (!next) level.set(values[i]!, (next = new Map()))
      level = next
    }
    let series = level.get(values[n - 1]!) as S | undefined
    if (series === undefined) level.set(values[n - 1]!, (series = this.#add(values)))
    return series
  }

  #add(values: readonly string[]): S {
    const labels: Record<string, string> = {}
    this.labelNames.forEach((n, i) => (labels[n] = values[i]!))
    const series = this.newSeries()
    this.#all.push({ labels, series })
    return series
  }

  reset(): void {
    this.#byValue.clear()
    this.#all.length = 0
    this.#unlabelled = undefined
  }

  /** prom-client's metric object (what `Registry.metrics()` formats). */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }> {
    const values: MetricValue[] = []
    for (const { labels, series } of this.#all) this.exportSeries(labels, series, values)
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  protected abstract newSeries(): S
  protected abstract exportSeries(labels: Record<string, string>, series: S, out: MetricValue[]): void
}

interface MetricValue {
  value: number
  labels: Record<string, string | number>
  sharedLabels?: Record<string, string>
  metricName?: string
}

export class CounterSeries {
  value = 0

  inc(by = 1): void {
    this.value += by
  }
}

export class BoundCounter extends BoundMetric<CounterSeries> {
  readonly type = 'counter'

  constructor(config: { name: string; help: string; labelNames?: readonly string[]; registers: readonly Registry[] }) {
    super(config.name, config.help, config.labelNames ?? [], config.registers)
  }

  /** prom-client's form, for code that finds this metric by name in the registry (e.g. the ext_proc handler's). */
  inc(labels: Readonly<Record<string, string>>, by = 1): void {
    this.labels(...this.labelNames.map((n) => labels[n] ?? '')).inc(by)
  }

  protected newSeries(): CounterSeries {
    return new CounterSeries()
  }

  protected exportSeries(labels: Record<string, string>, series: CounterSeries, out: MetricValue[]): void {
    out.push({ value: series.value, labels })
  }
}

export class HistogramSeries {
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe(value: number): void {
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && value > bounds[i]!) i++
    this.counts[i]!++
    this.sum += value
    this.count++
  }
}

export class BoundHistogram extends BoundMetric<HistogramSeries> {
  readonly type = 'histogram'
  readonly buckets: readonly number[]

  constructor(config: { name: string; help: string; labelNames?: readonly string[]; buckets: readonly number[]; registers: readonly Registry[] }) {
    super(config.name, config.help, config.labelNames ?? [], config.registers)
    this.buckets = [...config.buckets].sort((a, b) => a - b)
  }

  /** prom-client's form, for code that finds this metric by name in the registry (e.g. the ext_proc handler's). */
  observe(labels: Readonly<Record<string, string>>, value: number): void {
    this.labels(...this.labelNames.map((n) => labels[n] ?? '')).observe(value)
  }

  protected newSeries(): HistogramSeries {
    return new HistogramSeries(this.buckets)
  }

  /** As prom-client lays out a histogram: cumulative `_bucket` lines (`le` first), then `_sum` and `_count`. */
  protected exportSeries(labels: Record<string, string>, series: HistogramSeries, out: MetricValue[]): void {
    let cumulative = 0
    const bucket = `${this.name}_bucket`
    this.buckets.forEach((le, i) => {
      cumulative += series.counts[i]!
      out.push({ value: cumulative, labels: { le }, sharedLabels: labels, metricName: bucket })
    })
    out.push({ value: series.count, labels: { le: '+Inf' }, sharedLabels: labels, metricName: bucket })
    out.push({ value: series.sum, labels, metricName: `${this.name}_sum` })
    out.push({ value: series.count, labels, metricName: `${this.name}_count` })
  }
}
