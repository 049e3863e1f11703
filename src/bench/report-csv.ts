import type { Report } from './report-schema.js'

const DISTRIBUTIONS = ['ttftMs', 'itlMs', 'tpotMs', 'latencyMs'] as const
const STATS = ['mean', 'p50', 'p90', 'p95', 'p99'] as const

/** The CSV report: one row per strategy (GuideLLM's CSV is a summary too; the request log is in the JSON). */
export function reportCsv(report: Report): string {
  const header = [
    'strategy',
    'kind',
    'rate',
    'streams',
    'duration_s',
    'measured_s',
    'sent',
    'ok',
    'errors',
    'incomplete',
    'requests_per_s',
    'output_tokens_per_s',
    'prompt_tokens_per_s',
    'mean_concurrency',
    ...DISTRIBUTIONS.flatMap((d) => STATS.map((s) => `${snake(d)}_${s}`)),
    'prefix_cache_hit_rate',
    'preemptions',
  ]
  const rows = report.benchmarks.map((b) => [
    b.strategy.name,
    b.strategy.kind,
    b.strategy.rate ?? '',
    b.strategy.streams ?? '',
    b.durationS,
    b.measuredS,
    b.requests.sent,
    b.requests.ok,
    b.requests.errors,
    b.requests.incomplete,
    b.requestsPerSecond,
    b.outputTokensPerSecond,
    b.promptTokensPerSecond,
    b.meanConcurrency,
    ...DISTRIBUTIONS.flatMap((d) => STATS.map((s) => b[d][s])),
    b.server?.prefixCacheHitRate ?? '',
    b.server?.preemptions ?? '',
  ])
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n'
}

const snake = (name: string) => name.replace(/Ms$/, '_ms').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

/** RFC 4180: quoted when it holds a comma, quote or newline. */
function cell(v: string | number): string {
  const s = typeof v === 'number' ? String(Math.round(v * 1000) / 1000) : v
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}
