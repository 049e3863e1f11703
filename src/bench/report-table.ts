import { formatTable } from '../cli/table.js'
import type { Report } from './report-schema.js'

const ms = (v: number) => v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)
export const percent = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${(v * 100).toFixed(1)}%`)

/** The console summary: one row per strategy, GuideLLM's latency (median, p95) and throughput columns. */
export function formatReportTable(report: Report): string {
  const header = ['strategy', 'req/s', 'out tok/s', 'conc', 'TTFT p50', 'TTFT p95', 'ITL p50', 'ITL p95', 'TPOT p50', 'e2e p50', 'e2e p95', 'ok', 'err', 'incompl', 'prefix hits']
  const rows = report.benchmarks.map((b) => [
    b.strategy.name,
    b.requestsPerSecond.toFixed(2),
    b.outputTokensPerSecond.toFixed(0),
    b.meanConcurrency.toFixed(1),
    ms(b.ttftMs.p50),
    ms(b.ttftMs.p95),
    ms(b.itlMs.p50),
    ms(b.itlMs.p95),
    ms(b.tpotMs.p50),
    ms(b.latencyMs.p50),
    ms(b.latencyMs.p95),
    String(b.requests.ok),
    String(b.requests.errors),
    String(b.requests.incomplete),
    percent(b.server?.prefixCacheHitRate),
  ])
  const errors = report.benchmarks.flatMap((b) => Object.entries(b.errorsByKind).map(([kind, n]) => `  ${b.strategy.name}: ${kind} × ${n}`))
  const shares = report.benchmarks.flatMap((b) =>
    b.server && b.server.endpoints.length > 1 ? [`  ${b.strategy.name}: ${b.server.endpoints.map((e) => `${e.label} ${percent(e.share)}`).join(', ')}`] : [],
  )
  return [
    `${report.target.model} at ${report.target.url} — ${report.data}; times in ms`,
    formatTable(header, rows),
    ...(errors.length > 0 ? ['errors by kind:', ...errors] : []),
    ...(shares.length > 0 ? ['requests per endpoint (server counters):', ...shares] : []),
  ].join('\n')
}
