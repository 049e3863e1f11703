import autocannon from 'autocannon'

export interface LoadResult {
  label: string
  connections: number
  rps: number
  p50: number
  p99: number
  errors: number
  non2xx: number
}

/** A closed-loop load of `connections` keep-alive clients for `seconds` (autocannon: HDR-histogram latencies). */
export async function runLoad(label: string, url: string, body: string, connections: number, seconds: number): Promise<LoadResult> {
  const r = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration: seconds,
  })
  return { label, connections, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx }
}

export function formatLoadTable(results: readonly LoadResult[]): string {
  const rows = results.map((r) =>
    [r.label.padEnd(34), String(r.connections).padStart(4), r.rps.toFixed(0).padStart(8), r.p50.toFixed(2).padStart(8), r.p99.toFixed(2).padStart(8), String(r.errors + r.non2xx).padStart(7)].join('  '),
  )
  return [['target'.padEnd(34), 'conc', '   req/s', 'p50 ms', '  p99 ms', ' errors'].join('  '), ...rows].join('\n')
}
