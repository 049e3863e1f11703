import { readFileSync } from 'node:fs'
import autocannon from 'autocannon'

/** One measured cell: a closed loop of `connections` keep-alive clients against one target, and what the proxy spent. */
export interface LoadResult {
  label: string
  connections: number
  rps: number
  p50: number
  p99: number
  errors: number
  non2xx: number
  /** CPU time (user + system) the measured processes spent per completed request, µs; undefined when none is measured. */
  cpuUsPerRequest: number | undefined
  /** Resident set size of the measured processes at the end of the window, MiB. */
  rssMiB: number | undefined
}

export interface LoadOptions {
  url: string
  body: string
  connections: number
  seconds: number
  /** The proxy's processes, whose CPU time and RSS are read from /proc over the measured window. */
  pids?: readonly number[]
  /** Request headers besides content-type (e.g. an API key). */
  headers?: Record<string, string>
}

const CLOCK_TICKS_PER_SECOND = 100 // getconf CLK_TCK on Linux

/** utime + stime of a process, in µs (/proc/<pid>/stat fields 14 and 15, after the parenthesised command name). */
function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_SECOND
}

function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(match?.[1] ?? 0)
}

const sum = (pids: readonly number[], f: (pid: number) => number) => pids.reduce((total, pid) => total + f(pid), 0)

/** Runs autocannon (HDR-histogram latencies; HTTPS without certificate checks) and reads the proxy's /proc counters around it. */
export async function runLoad(label: string, options: LoadOptions): Promise<LoadResult> {
  const pids = options.pids ?? []
  const cpuBefore = sum(pids, cpuMicros)
  // autocannon's own histogram has 1 ms resolution, too coarse for a sub-millisecond proxy: keep every response time.
  const latencies: number[] = []
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        body: options.body,
        connections: options.connections,
        duration: options.seconds,
        tlsOptions: { rejectUnauthorized: false },
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    )
    instance.on('response', (_client, _status, _bytes, ms: number) => void latencies.push(ms))
  })
  const cpu = sum(pids, cpuMicros) - cpuBefore
  const completed = r.requests.total
  return {
    label,
    connections: options.connections,
    rps: completed / r.duration,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    cpuUsPerRequest: pids.length > 0 && completed > 0 ? cpu / completed : undefined,
    rssMiB: pids.length > 0 ? sum(pids, rssKiB) / 1024 : undefined,
  }
}

function percentile(values: number[], q: number): number {
  if (values.length === 0) return 0
  values.sort((a, b) => a - b)
  return values[Math.min(values.length - 1, Math.floor(q * values.length))]!
}

/** The middle value (the upper middle of an even count), without reordering `values`. */
export const median = (values: readonly number[]): number => percentile([...values], 0.5)

/** One cell measured in several rounds: each figure's median (errors summed, RSS of the last round). */
export function medianResult(rounds: readonly LoadResult[]): LoadResult {
  const of = (metric: (r: LoadResult) => number | undefined) => {
    const values = rounds.map(metric).filter((v): v is number => v !== undefined)
    return values.length === 0 ? undefined : median(values)
  }
  const last = rounds.at(-1)!
  return {
    label: last.label,
    connections: last.connections,
    rps: of((r) => r.rps)!,
    p50: of((r) => r.p50)!,
    p99: of((r) => r.p99)!,
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    non2xx: rounds.reduce((n, r) => n + r.non2xx, 0),
    cpuUsPerRequest: of((r) => r.cpuUsPerRequest),
    rssMiB: last.rssMiB,
  }
}

const num = (v: number | undefined, digits: number, width: number) => (v === undefined ? '-' : v.toFixed(digits)).padStart(width)

export function formatLoadTable(results: readonly LoadResult[]): string {
  const width = Math.max(6, ...results.map((r) => r.label.length))
  const header = ['target'.padEnd(width), 'conc', '   req/s', ' p50 ms', ' p99 ms', 'CPU µs/req', 'RSS MiB', 'errors']
  const rows = results.map((r) =>
    [
      r.label.padEnd(width),
      String(r.connections).padStart(4),
      num(r.rps, 0, 8),
      num(r.p50, 3, 7),
      num(r.p99, 3, 7),
      num(r.cpuUsPerRequest, 1, 10),
      num(r.rssMiB, 1, 7),
      String(r.errors + r.non2xx).padStart(6),
    ].join('  '),
  )
  return [header.join('  '), ...rows].join('\n')
}
