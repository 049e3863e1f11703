import { describe, expect, it } from 'vitest'
import { LatencyHistogram } from './latency-histogram.js'

describe('LatencyHistogram', () => {
  it('gives the percentiles of known data within 0.1 % (3 significant digits)', () => {
    // 1..10 000 ms in a shuffled order: the p-th percentile is p % of 10 000.
    const values = Array.from({ length: 10_000 }, (_, i) => i + 1).sort((a, b) => ((a * 7919) % 10_007) - ((b * 7919) % 10_007))
    const s = LatencyHistogram.of(values).summary()
    for (const [got, want] of [
      [s.p50, 5000],
      [s.p90, 9000],
      [s.p95, 9500],
      [s.p99, 9900],
      [s.max, 10_000],
      [s.mean, 5000.5],
    ] as const)
      expect(Math.abs(got - want) / want).toBeLessThan(0.001)
    expect(s.min).toBe(1)
    expect(s.count).toBe(10_000)
  })

  it('keeps sub-millisecond resolution and ignores values that are not finite non-negative numbers', () => {
    const h = LatencyHistogram.of([0.25, 0.5, 0.75, Number.NaN, -1, Infinity])
    expect(h.count).toBe(3)
    expect(h.percentile(50)).toBeCloseTo(0.5, 3)
    expect(h.summary().min).toBeCloseTo(0.25, 3)
  })

  it('summarizes an empty histogram as zeros', () => {
    expect(new LatencyHistogram().summary()).toEqual({ count: 0, mean: 0, min: 0, max: 0, p50: 0, p90: 0, p95: 0, p99: 0 })
  })
})
