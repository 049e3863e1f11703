import { basename } from 'node:path'
import { formatTable } from '../cli/table.js'
import type { CompareResult } from './compare.js'
import type { BenchmarkResult } from './report-schema.js'
import { percent } from './report-table.js'

interface Row {
  name: string
  value: (b: BenchmarkResult) => number | null | undefined
  show: (v: number) => string
}

const ROWS: Row[] = [
  { name: 'prefix-cache hit rate', value: (b) => b.server?.prefixCacheHitRate, show: percent },
  { name: 'TTFT p50 (ms)', value: (b) => b.ttftMs.p50, show: (v) => v.toFixed(1) },
  { name: 'TTFT p90 (ms)', value: (b) => b.ttftMs.p90, show: (v) => v.toFixed(1) },
  { name: 'ITL p50 (ms)', value: (b) => b.itlMs.p50, show: (v) => v.toFixed(2) },
  { name: 'e2e p50 (ms)', value: (b) => b.latencyMs.p50, show: (v) => v.toFixed(0) },
  { name: 'requests/s', value: (b) => b.requestsPerSecond, show: (v) => v.toFixed(2) },
  { name: 'output tokens/s', value: (b) => b.outputTokensPerSecond, show: (v) => v.toFixed(0) },
  { name: 'preemptions', value: (b) => b.server?.preemptions, show: (v) => v.toFixed(0) },
  { name: 'errors', value: (b) => b.requests.errors, show: (v) => v.toFixed(0) },
]

/**
 * Requests per endpoint as the seeds wrote them: replicas of one workload (ids that differ only in a trailing -N) side by
 * side, "kserve-prefill 46/54 · kserve 100/0".
 */
export function endpointDistribution(b: BenchmarkResult): string {
  const groups = new Map<string, number[]>()
  for (const e of b.server?.endpoints ?? []) {
    const name = (e.label.split('/').at(-1) ?? e.label).replace(/-\d+$/, '')
    groups.set(name, [...(groups.get(name) ?? []), e.requests])
  }
  return [...groups].map(([name, counts]) => `${name} ${counts.join('/')}`).join(' · ') || '-'
}

/** The side-by-side table of a comparison: one column per config, then each config's ratio to the first. */
export function formatCompareTable(results: readonly CompareResult[]): string {
  const [base, ...others] = results
  if (!base) return ''
  const header = ['', ...results.map((r) => basename(r.config)), ...others.map((r) => `${basename(r.config)} / ${basename(base.config)}`)]
  const rows = ROWS.map((row) => {
    const values = results.map((r) => row.value(r.benchmark))
    const b = values[0]
    return [
      row.name,
      ...values.map((v) => (v === null || v === undefined ? '-' : row.show(v))),
      ...values.slice(1).map((v) => (v === null || v === undefined || b === null || b === undefined ? '-' : b === 0 ? (v === 0 ? '1.00×' : '∞') : `${(v / b).toFixed(2)}×`)),
    ]
  })
  const distribution = results.map((r) => `  ${basename(r.config)}: ${endpointDistribution(r.benchmark)}`)
  return [formatTable(header, rows), 'requests per endpoint (server counters):', ...distribution].join('\n')
}
