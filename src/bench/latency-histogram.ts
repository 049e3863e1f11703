import hdr from 'hdr-histogram-js'

/** What a report keeps of a distribution (milliseconds, or whatever unit was recorded). */
export interface DistributionSummary {
  count: number
  mean: number
  min: number
  max: number
  p50: number
  p90: number
  p95: number
  p99: number
}

/** Values are recorded in thousandths of their unit (µs for ms), so sub-millisecond latencies keep 3 significant digits. */
const RESOLUTION = 1000

/**
 * An HDR histogram of non-negative values (latencies in ms, tokens/s…): constant memory however long the run, percentiles
 * within 0.1 % (3 significant digits), as GuideLLM and wrk2 report them.
 */
export class LatencyHistogram {
  readonly #histogram = hdr.build({ bitBucketSize: 64, autoResize: true, numberOfSignificantValueDigits: 3, useWebAssembly: false })

  record(value: number): void {
    if (Number.isFinite(value) && value >= 0) this.#histogram.recordValue(Math.round(value * RESOLUTION))
  }

  get count(): number {
    return this.#histogram.totalCount
  }

  percentile(p: number): number {
    return this.count === 0 ? 0 : this.#histogram.getValueAtPercentile(p) / RESOLUTION
  }

  summary(): DistributionSummary {
    const h = this.#histogram
    if (h.totalCount === 0) return { count: 0, mean: 0, min: 0, max: 0, p50: 0, p90: 0, p95: 0, p99: 0 }
    return {
      count: h.totalCount,
      mean: h.mean / RESOLUTION,
      min: this.percentile(0),
      max: h.maxValue / RESOLUTION,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p95: this.percentile(95),
      p99: this.percentile(99),
    }
  }

  static of(values: Iterable<number>): LatencyHistogram {
    const h = new LatencyHistogram()
    for (const v of values) h.record(v)
    return h
  }
}
