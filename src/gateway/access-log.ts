import pino, { type Logger } from 'pino'

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

/** JSON lines through pino's asynchronous destination, so logging stays off the request's critical path. */
export function createAccessLog(destination: string | 'off'): AccessLog {
  if (destination === 'off') return () => {}
  const logger: Logger = pino(
    { base: null, timestamp: false, messageKey: 'msg' },
    pino.destination({ dest: destination === '-' ? 1 : destination, sync: false, mkdir: true }),
  )
  return (record) => logger.info(record)
}
