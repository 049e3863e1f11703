import { describe, expect, it } from 'vitest'
import type { CompareResult } from './compare.js'
import { toSimulatedTime } from './compare.js'
import { endpointDistribution, formatCompareTable } from './compare-table.js'
import type { BenchmarkResult } from './report-schema.js'

const dist = (p50: number) => ({ count: 10, mean: p50, min: p50, max: p50, p50, p90: p50 * 2, p95: p50 * 2, p99: p50 * 2 })

function result(config: string, hitRate: number, ttft: number, endpoints: [string, number][]): CompareResult {
  const total = endpoints.reduce((n, [, r]) => n + r, 0)
  const benchmark: BenchmarkResult = {
    strategy: { name: 'concurrent@4', kind: 'concurrent', streams: 4 },
    durationS: 10,
    measuredS: 10,
    requests: { sent: 100, measured: 100, ok: 100, errors: 0, incomplete: 0 },
    errorsByKind: {},
    requestsPerSecond: 10,
    outputTokensPerSecond: 160,
    promptTokensPerSecond: 3000,
    meanConcurrency: 4,
    ttftMs: dist(ttft),
    itlMs: dist(5),
    tpotMs: dist(6),
    latencyMs: dist(200),
    outputTokens: dist(16),
    server: { prefixCacheHitRate: hitRate, preemptions: 0, endpoints: endpoints.map(([label, requests]) => ({ label, requests, share: requests / total })) },
    requestLog: [],
  }
  return { config: `/x/${config}`, benchmark }
}

describe('compare table', () => {
  const before = result('seed-before.yaml', 0, 100, [
    ['ns/m-kserve-prefill-0', 25],
    ['ns/m-kserve-prefill-1', 25],
    ['ns/m-kserve-0', 25],
    ['ns/m-kserve-1', 25],
  ])
  const after = result('seed-after.yaml', 0.86, 50, [
    ['ns/m-kserve-prefill-0', 46],
    ['ns/m-kserve-prefill-1', 54],
    ['ns/m-kserve-0', 100],
    ['ns/m-kserve-1', 0],
  ])

  it('prints one column per config and each one’s ratio to the first', () => {
    const table = formatCompareTable([before, after])
    expect(table).toMatch(/^ +seed-before\.yaml +seed-after\.yaml +seed-after\.yaml \/ seed-before\.yaml$/m)
    expect(table).toMatch(/^prefix-cache hit rate +0\.0% +86\.0% +∞$/m)
    expect(table).toMatch(/^TTFT p50 \(ms\) +100\.0 +50\.0 +0\.50×$/m)
    expect(table).toMatch(/^errors +0 +0 +1\.00×$/m)
  })

  it('writes the per-endpoint distribution as the seeds did, replicas of one workload side by side', () => {
    expect(endpointDistribution(before.benchmark)).toBe('m-kserve-prefill 25/25 · m-kserve 25/25')
    expect(endpointDistribution(after.benchmark)).toBe('m-kserve-prefill 46/54 · m-kserve 100/0')
  })

  it('turns a time-scaled run’s wall-clock figures back into simulated time', () => {
    const b = toSimulatedTime(after.benchmark, 10)
    expect(b.ttftMs.p50).toBe(500)
    expect(b.requestsPerSecond).toBe(1)
    expect(b.durationS).toBe(100)
  })
})
