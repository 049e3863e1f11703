import type { BenchmarkResult, Report } from './report-schema.js'
import { reportCsv } from './report-csv.js'
import { escapeHtml, histogramChart, lineChart, type Series } from './svg-chart.js'

const TIME_BINS = 20

/**
 * The HTML report: one self-contained file (inline SVG, inline CSS, no script), viewable offline. Latency vs rate when
 * there are several strategies (a sweep), TTFT and ITL distributions per strategy, each endpoint's share of requests over
 * time (from the gateway's x-gateway-destination-endpoint-served), and the summary table.
 */
export function reportHtml(report: Report): string {
  const sections: string[] = []
  if (report.benchmarks.length > 1) {
    const by = (pick: (b: BenchmarkResult) => number): Series['points'] => report.benchmarks.map((b) => ({ x: b.requestsPerSecond, y: pick(b) }))
    sections.push(
      '<h2>Latency vs rate</h2>',
      lineChart('TTFT and end-to-end latency (p50, p90) against achieved requests/s', 'requests/s', 'ms', [
        { name: 'TTFT p50', points: by((b) => b.ttftMs.p50) },
        { name: 'TTFT p90', points: by((b) => b.ttftMs.p90) },
        { name: 'e2e p50', points: by((b) => b.latencyMs.p50) },
        { name: 'e2e p90', points: by((b) => b.latencyMs.p90) },
      ]),
      lineChart('ITL p50 against achieved requests/s', 'requests/s', 'ms', [{ name: 'ITL p50', points: by((b) => b.itlMs.p50) }]),
    )
  }
  for (const b of report.benchmarks) {
    const ok = b.requestLog.filter((r) => !r.excluded && r.status === 'ok')
    sections.push(
      `<h2>${escapeHtml(b.strategy.name)}</h2>`,
      histogramChart('TTFT distribution', 'TTFT ms', ok.flatMap((r) => (r.ttftMs === undefined ? [] : [r.ttftMs]))),
      histogramChart('ITL distribution (per request, first token excluded)', 'ITL ms', ok.flatMap((r) => (r.itlMs === undefined ? [] : [r.itlMs]))),
      endpointShareChart(b),
    )
  }
  const rows = reportCsv(report)
    .trim()
    .split('\n')
    .map((line, i) => `<tr>${line.split(',').map((c) => (i === 0 ? `<th>${escapeHtml(c)}</th>` : `<td>${escapeHtml(c)}</td>`)).join('')}</tr>`)
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>maitred bench — ${escapeHtml(report.target.model)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}figure{display:inline-block;margin:0 1em 1em 0}figcaption{font-size:13px;font-weight:600}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#f4f4f4}.scroll{overflow-x:auto}</style></head>
<body><h1>maitred bench</h1>
<p>${escapeHtml(report.target.model)} at <code>${escapeHtml(report.target.url)}</code> (${report.target.endpoint}) — profile ${escapeHtml(report.profile)}, seed ${report.seed}, ${escapeHtml(report.createdAt)}<br>data: ${escapeHtml(report.data)}</p>
<div class="scroll"><table>${rows.join('')}</table></div>
${sections.join('\n')}
</body></html>
`
}

/** Each endpoint's share of the requests started in each of TIME_BINS slices of the run. */
function endpointShareChart(b: BenchmarkResult): string {
  const served = b.requestLog.filter((r) => r.endpoint !== undefined)
  if (served.length === 0) return ''
  const endpoints = [...new Set(served.map((r) => r.endpoint!))].sort()
  const span = Math.max(...served.map((r) => r.startedAt)) / TIME_BINS || 1
  const bins = Array.from({ length: TIME_BINS }, () => new Map<string, number>())
  for (const r of served) {
    const bin = bins[Math.min(TIME_BINS - 1, Math.floor(r.startedAt / span))]!
    bin.set(r.endpoint!, (bin.get(r.endpoint!) ?? 0) + 1)
  }
  const series = endpoints.map((e) => ({
    name: e,
    points: bins.flatMap((bin, i) => {
      const total = [...bin.values()].reduce((a, n) => a + n, 0)
      return total === 0 ? [] : [{ x: ((i + 0.5) * span) / 1000, y: (100 * (bin.get(e) ?? 0)) / total }]
    }),
  }))
  return lineChart('share of requests per endpoint over time (gateway header)', 'seconds into the run', '% of requests', series)
}
