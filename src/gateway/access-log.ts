import { writeSync } from 'node:fs'
import pino from 'pino'

/** One access-log record per request, naming the route, the backend and the endpoint chosen (Envoy's upstream fields). */
export interface AccessLogRecord {
  start_time: string
  request_id: string
  gateway: string
  listener: string
  method: string
  path: string
  protocol: string
  authority: string | undefined
  response_code: number
  /** Envoy-style flags: NR no route, UH no healthy upstream, UF upstream connect failure, DC downstream disconnect, URX retries exhausted. */
  response_flags: string
  route_name: string | undefined
  backend: string | undefined
  /** `outbound|<port>||<backend>.<namespace>.svc.cluster.local`, as in the seed's Envoy access log. */
  upstream_cluster: string | undefined
  upstream_host: string | undefined
  attempts: number
  picker_profiles?: readonly string[]
  bytes_received: number
  bytes_sent: number
  duration_ms: number
  upstream_service_time_ms: number | undefined
  x_forwarded_for: string | undefined
  user_agent: string | undefined
  explain?: unknown
}

export type AccessLog = (record: AccessLogRecord) => void

/**
 * JSON lines through pino's asynchronous destination (sonic-boom), so logging stays off the request's critical path.
 * Lines are exactly what `pino({ base: null, timestamp: false }).info(record)` writes — `{"level":30,…}` — but serialised
 * by JSON.stringify directly (pino's own per-key serialiser costs more, once per request), and the lines finished in one
 * event-loop turn go out in one write (a file write per turn rather than per request).
 */
export function createAccessLog(destination: string | 'off'): AccessLog {
  if (destination === 'off') return () => {}
  const out = pino.destination({ dest: destination === '-' ? 1 : destination, sync: false, mkdir: true })
  let pending = ''
  const flush = () => {
    const lines = pending
    pending = ''
    out.write(lines)
  }
  // pino.destination flushes sonic-boom's buffer synchronously at exit; lines still waiting for their turn follow it
  // (this hook is installed after pino's, so it runs after).
  if (atExit.size === 0) process.once('exit', () => atExit.forEach((f) => f()))
  const fd = () => (out as unknown as { fd: number }).fd
  atExit.add(() => {
    if (pending !== '' && fd() >= 0) writeSync(fd(), pending)
  })
  return (record) => {
    if (pending === '') setImmediate(flush)
    pending += `{"level":30,${JSON.stringify(record).slice(1)}\n`
  }
}

/** One process exit hook for every access log (a stack per test in one process must not pile up listeners). */
const atExit = new Set<() => void>()
