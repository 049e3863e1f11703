import { describe, expect, it } from 'vitest'
import { reportCsv } from './report-csv.js'
import { reportHtml } from './report-html.js'
import { parseReport, REPORT_SCHEMA_VERSION, type Report } from './report-schema.js'
import type { RequestRecord } from './request-record.js'
import { summarize } from './summarize.js'

/** 100 requests, one every 100 ms over 10 s, each taking 50 ms with TTFT = its index in ms; every tenth an HTTP 503. */
function records(): RequestRecord[] {
  return Array.from({ length: 100 }, (_, i) => ({
    startedAt: i * 100,
    ttftMs: i % 10 === 9 ? undefined : i,
    itlMs: i % 10 === 9 ? undefined : 2,
    tpotMs: i % 10 === 9 ? undefined : 3,
    latencyMs: 50,
    promptTokens: 100,
    outputTokens: i % 10 === 9 ? 0 : 16,
    group: 0,
    endpoint: `10.0.0.${i % 2}:8000`,
    ...(i % 10 === 9 ? { status: 'error' as const, error: 'http_503' } : { status: 'ok' as const }),
  })) as RequestRecord[]
}

function report(warmup: number, cooldown: number): Report {
  const b = summarize({ kind: 'constant', rate: 10 }, { records: records(), durationMs: 10_000 }, { warmup, cooldown }, {
    prefixCacheHitRate: 0.86,
    preemptions: 0,
    endpoints: [
      { label: 'a', requests: 50, share: 0.5 },
      { label: 'b', requests: 50, share: 0.5 },
    ],
  })
  return { schema: REPORT_SCHEMA_VERSION, createdAt: new Date(0).toISOString(), target: { url: 'http://127.0.0.1:1/v1', model: 'm', endpoint: 'chat' }, data: 'synthetic', profile: 'constant', seed: 1, limits: { maxSeconds: 10, warmup, cooldown }, benchmarks: [b] }
}

describe('bench reports', () => {
  it('summarizes a run: rates over the measured window, errors by kind, percentiles of successful requests', () => {
    const b = report(0, 0).benchmarks[0]!
    expect(b.requests).toEqual({ sent: 100, measured: 100, ok: 90, errors: 10, incomplete: 0 })
    expect(b.errorsByKind).toEqual({ http_503: 10 })
    expect(b.measuredS).toBeCloseTo(9.95, 5)
    expect(b.requestsPerSecond).toBeCloseTo(90 / 9.95, 5)
    expect(b.outputTokensPerSecond).toBeCloseTo((90 * 16) / 9.95, 5)
    expect(b.ttftMs.p50).toBeCloseTo(48, 0)
    expect(b.meanConcurrency).toBeCloseTo((100 * 0.05) / 9.95, 5)
  })

  it('leaves warm-up (fraction or seconds) and cool-down out of the statistics, but in the request log', () => {
    const fraction = report(0.1, 0.1).benchmarks[0]!
    const seconds = report(1, 1).benchmarks[0]!
    for (const b of [fraction, seconds]) {
      // Sent before 1 s (10 requests) or still running after 9 s (the 10 sent from 8.96 s on) are out.
      expect(b.requests.measured).toBe(80)
      expect(b.requestLog).toHaveLength(100)
      expect(b.requestLog.filter((r) => r.excluded)).toHaveLength(20)
      expect(b.ttftMs.p50).toBeGreaterThan(45)
    }
  })

  it('round-trips through JSON and the versioned schema, and refuses what does not fit', () => {
    const r = report(0, 0)
    expect(parseReport(JSON.parse(JSON.stringify(r)))).toEqual(r)
    expect(() => parseReport({ ...r, schema: 'maitred.bench/v0' })).toThrow(/schema/)
    expect(() => parseReport({ ...r, benchmarks: [{ ...r.benchmarks[0], ttftMs: { p50: 1 } }] })).toThrow(/benchmarks\.0\.ttftMs/)
  })

  it('writes a CSV summary row per strategy', () => {
    const lines = reportCsv(report(0, 0)).trim().split('\n')
    expect(lines).toHaveLength(2)
    const header = lines[0]!.split(',')
    const row = lines[1]!.split(',')
    expect(row[header.indexOf('strategy')]).toBe('constant@10/s')
    expect(row[header.indexOf('errors')]).toBe('10')
    expect(Number(row[header.indexOf('ttft_ms_p50')])).toBeCloseTo(48, 0)
    expect(row[header.indexOf('prefix_cache_hit_rate')]).toBe('0.86')
  })

  it('writes a self-contained HTML report with inline SVG charts', () => {
    const r = report(0, 0)
    const sweep: Report = { ...r, profile: 'sweep', benchmarks: [r.benchmarks[0]!, { ...r.benchmarks[0]!, requestsPerSecond: 20, strategy: { name: 'constant@20/s', kind: 'constant', rate: 20 } }] }
    const html = reportHtml(sweep)
    expect(html).toMatch(/^<!doctype html>/)
    expect(html).not.toMatch(/<script|src="http|href="http/)
    expect(html).toContain('Latency vs rate')
    expect(html).toContain('TTFT distribution')
    expect(html).toContain('ITL distribution')
    expect(html).toContain('share of requests per endpoint over time')
    expect(html.match(/<svg /g)!.length).toBe(2 + 2 * 3)
  })
})
