import type { AccessLogRecord } from '../gateway/access-log.js'

/**
 * What `maitred logs` keeps: a route (`name`, `ns/name`, or the logged `ns/name/rule`), an endpoint (`host:port`, or part
 * of it), a status (`503`, `5xx`).
 */
export interface LogFilter {
  route?: string
  endpoint?: string
  status?: string
}

export function matchesFilter(r: Partial<AccessLogRecord>, f: LogFilter): boolean {
  if (f.route !== undefined && !routeMatches(r.route_name, f.route)) return false
  if (f.endpoint !== undefined && !(r.upstream_host ?? '').includes(f.endpoint)) return false
  if (f.status !== undefined) {
    const code = String(r.response_code ?? '')
    const pattern = f.status.toLowerCase()
    if (!(pattern.endsWith('xx') ? code.startsWith(pattern[0]!) && code.length === 3 : code === pattern)) return false
  }
  return true
}

function routeMatches(logged: string | undefined, wanted: string): boolean {
  if (logged === undefined) return false
  const [namespace, name] = logged.split('/')
  return wanted === logged || wanted === name || wanted === `${namespace}/${name}`
}

const colours = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2 } as const

/**
 * One request as one line, in the order of the seeds' Envoy access-log walk-through:
 * `[time] "METHOD PATH PROTOCOL" STATUS FLAGS BYTES_IN BYTES_OUT DURATION UPSTREAM_TIME "ENDPOINT" CLUSTER`, then what
 * Envoy's line lacks: route, time to first token, tokens in → out (cached), attempts and the request id.
 */
export function formatLogLine(r: Partial<AccessLogRecord>, colour: boolean): string {
  const paint = (c: keyof typeof colours, s: string) => (colour ? `\x1b[${colours[c]}m${s}\x1b[0m` : s)
  const code = r.response_code ?? 0
  const status = paint(code >= 500 || code === 0 ? 'red' : code >= 400 ? 'yellow' : 'green', String(code))
  const tokens =
    r.prompt_tokens !== undefined ? ` tokens=${r.prompt_tokens}→${r.completion_tokens ?? '?'}${r.cached_tokens ? ` (${r.cached_tokens} cached)` : ''}` : ''
  return [
    paint('dim', `[${r.start_time ?? '?'}]`),
    `"${r.method ?? '?'} ${r.path ?? '?'} ${r.protocol ?? '?'}"`,
    status,
    r.response_flags ?? '-',
    String(r.bytes_received ?? 0),
    String(r.bytes_sent ?? 0),
    `${r.duration_ms ?? 0}ms`,
    r.upstream_service_time_ms !== undefined ? `${r.upstream_service_time_ms}ms` : '-',
    paint('cyan', `"${r.upstream_host ?? '-'}"`),
    r.upstream_cluster ?? '-',
    `route=${r.route_name ?? '-'}${r.ttft_ms !== undefined ? ` ttft=${r.ttft_ms}ms` : ''}${tokens}${(r.attempts ?? 0) > 1 ? ` attempts=${r.attempts}` : ''}`,
    paint('dim', `id=${r.request_id ?? '-'}`),
  ].join(' ')
}

/** A JSON access-log line as a record, or undefined for any other line (e.g. `maitred up`'s own output on the same stdout). */
export function parseLogLine(line: string): Partial<AccessLogRecord> | undefined {
  if (!line.startsWith('{')) return undefined
  try {
    const r = JSON.parse(line) as Partial<AccessLogRecord>
    return typeof r.request_id === 'string' ? r : undefined
  } catch {
    return undefined
  }
}
