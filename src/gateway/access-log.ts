import { writeSync } from 'node:fs'
import fastJson from 'fast-json-stringify'
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
  /** Envoy-style flags: NR no route, UH no healthy upstream, UF upstream connect failure, DC downstream disconnect, URX retries exhausted, UAEX auth denied, RL rate limited, RLSE rate-limit store error. */
  response_flags: string
  route_name: string | undefined
  backend: string | undefined
  /** `outbound|<port>||<backend>.<namespace>.svc.cluster.local`, as in the seed's Envoy access log. */
  upstream_cluster: string | undefined
  upstream_host: string | undefined
  attempts: number
  picker_profiles?: readonly string[]
  bytes_received: number
  /** Response body bytes written to the client (Envoy's BYTES_SENT), counted alike on HTTP/1.1, h2c and HTTPS/2. */
  bytes_sent: number
  duration_ms: number
  upstream_service_time_ms: number | undefined
  /** Streamed responses: ms from the request's arrival to the first event (the first token). */
  ttft_ms?: number
  /** From the response's `usage` (a streamed one carries it only with `stream_options.include_usage`). */
  prompt_tokens?: number
  completion_tokens?: number
  cached_tokens?: number
  x_forwarded_for: string | undefined
  user_agent: string | undefined
  /** The API key's tier and display prefix (never the key), when an AuthPolicy identified one. */
  tier?: string
  key_prefix?: string
  explain?: unknown
}

export type AccessLog = (record: AccessLogRecord) => void

const text = { type: 'string' } as const
const number = { type: 'number' } as const
/** Every field of the record, in the order lines show them (keyed by the type, so a new field cannot be forgotten). */
const RECORD_FIELDS: Record<keyof AccessLogRecord, object> = {
  start_time: text,
  request_id: text,
  gateway: text,
  listener: text,
  method: text,
  path: text,
  protocol: text,
  authority: text,
  response_code: number,
  response_flags: text,
  route_name: text,
  backend: text,
  upstream_cluster: text,
  upstream_host: text,
  attempts: number,
  picker_profiles: { type: 'array', items: text },
  bytes_received: number,
  bytes_sent: number,
  duration_ms: number,
  upstream_service_time_ms: number,
  ttft_ms: number,
  prompt_tokens: number,
  completion_tokens: number,
  cached_tokens: number,
  x_forwarded_for: text,
  user_agent: text,
  tier: text,
  key_prefix: text,
  explain: {},
}

/** The same JSON as JSON.stringify (undefined fields left out), from code compiled for this shape: about 3× faster. */
const serialise = fastJson({ type: 'object', properties: RECORD_FIELDS })

/** Envoy buffers its access log and flushes it on a timer or when the buffer fills; ours flushes sooner, so `tail -f` feels live. */
export const ACCESS_LOG_FLUSH_INTERVAL_MS = 50
const FLUSH_BYTES = 64 * 1024

/**
 * JSON lines through pino's asynchronous destination (sonic-boom), so logging stays off the request's critical path.
 * Lines are exactly what `pino({ base: null, timestamp: false }).info(record)` writes — `{"level":30,…}` — but serialised
 * by code compiled for the record (pino's per-key serialiser, and JSON.stringify, cost more, once per request). Lines are
 * buffered, as Envoy's file access log is, and written every 50 ms or every 64 KiB: a write per event-loop turn was a
 * measurable share of the gateway's CPU per request under load.
 */
export function createAccessLog(destination: string | 'off'): AccessLog {
  if (destination === 'off') return () => {}
  const out = pino.destination({ dest: destination === '-' ? 1 : destination, sync: false, mkdir: true })
  let pending = ''
  let timer: NodeJS.Timeout | undefined
  const flush = () => {
    clearTimeout(timer)
    timer = undefined
    const lines = pending
    pending = ''
    out.write(lines)
  }
  // pino.destination flushes sonic-boom's buffer synchronously at exit; lines still waiting for the timer follow it
  // (this hook is installed after pino's, so it runs after).
  if (atExit.size === 0) process.once('exit', () => atExit.forEach((f) => f()))
  const fd = () => (out as unknown as { fd: number }).fd
  atExit.add(() => {
    if (pending !== '' && fd() >= 0) writeSync(fd(), pending)
  })
  return (record) => {
    pending += `{"level":30,${serialise(record).slice(1)}\n`
    if (pending.length >= FLUSH_BYTES) flush()
    // Unreferenced: a pending flush does not keep the process alive (the exit hook writes what is left).
    else timer ??= setTimeout(flush, ACCESS_LOG_FLUSH_INTERVAL_MS).unref()
  }
}

/** One process exit hook for every access log (a stack per test in one process must not pile up listeners). */
const atExit = new Set<() => void>()
