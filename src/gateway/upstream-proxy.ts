import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import { Agent, errors as undiciErrors } from 'undici'
import type { EndpointRef } from '../picker/endpoint.js'

/** Hop-by-hop headers (RFC 9110 §7.6.1) never cross the proxy; `host` is set by the client for the upstream origin. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'http2-settings'])

export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, extra: Readonly<Record<string, string>>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(incoming)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value
  for (const [name, value] of Object.entries(extra)) out[name.toLowerCase()] = value
  return out
}

function responseHeaders(upstream: Record<string, string | string[] | undefined>, extra: Readonly<Record<string, string>>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(upstream)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value
  for (const [name, value] of Object.entries(extra)) out[name] = value
  return out
}

export interface ForwardRequest {
  method: string
  /** Path and query as the upstream sees them. */
  path: string
  headers: Record<string, string | string[]>
  /** A buffered body can be replayed on another endpoint; a stream cannot. */
  body: Buffer | Readable | null
  signal: AbortSignal
  /** Headers added to the client response (e.g. the endpoint that served it). */
  responseHeaders: (endpoint: EndpointRef) => Record<string, string>
  /** Per-attempt timeout (Gateway API backendRequest); 0 = none. */
  attemptTimeoutMs: number
  /** Called when upstream response headers arrive, before any byte goes to the client. */
  onHeaders?: (result: ForwardResult) => void
}

export interface ForwardResult {
  endpoint: EndpointRef
  status: number
  attempts: number
  /** Milliseconds from the first attempt to upstream response headers. */
  upstreamMs: number
}

/** Fails before any response byte reached the client: safe to retry on another endpoint when the body is replayable. */
export class UpstreamConnectError extends Error {
  constructor(
    readonly endpoint: EndpointRef,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`upstream connect error or disconnect/reset before headers: ${(cause as Error)?.message ?? String(cause)}`, { cause })
    this.name = 'UpstreamConnectError'
  }
}

export class UpstreamTimeoutError extends Error {
  constructor(readonly endpoint: EndpointRef) {
    super('upstream request timeout')
    this.name = 'UpstreamTimeoutError'
  }
}

/**
 * The forwarding half of the gateway: one pooled keep-alive undici Agent for all model servers. Responses stream to the
 * client chunk by chunk (undici writes into the ServerResponse as bytes arrive); the request body is forwarded intact.
 */
export class UpstreamProxy {
  readonly #agent: Agent

  constructor(options: { connectTimeoutMs?: number } = {}) {
    this.#agent = new Agent({ keepAliveTimeout: 4_000, connect: { timeout: options.connectTimeoutMs ?? 2_000 }, pipelining: 1 })
  }

  /**
   * Tries `candidates()` in order until one answers with headers. Retries only failures before any response byte, and only
   * when the body is replayable (buffered or absent).
   */
  async forward(req: ForwardRequest, res: ServerResponse, candidates: () => EndpointRef | undefined, maxAttempts: number): Promise<ForwardResult> {
    const started = performance.now()
    const replayable = req.body === null || Buffer.isBuffer(req.body)
    for (let attempt = 1; ; attempt++) {
      const endpoint = candidates()
      if (!endpoint) throw new UpstreamConnectError(undefined as never, attempt - 1, new Error('no healthy upstream'))
      let headersAt = 0
      let status = 0
      const signal = req.attemptTimeoutMs > 0 ? AbortSignal.any([req.signal, AbortSignal.timeout(req.attemptTimeoutMs)]) : req.signal
      try {
        await this.#agent.stream(
          { origin: endpoint.url, path: req.path, method: req.method as 'GET', headers: req.headers, body: req.body, signal },
          ({ statusCode, headers }) => {
            headersAt = performance.now()
            status = statusCode
            req.onHeaders?.({ endpoint, status, attempts: attempt, upstreamMs: headersAt - started })
            res.writeHead(statusCode, responseHeaders(headers, req.responseHeaders(endpoint)))
            res.flushHeaders()
            return res
          },
        )
        return { endpoint, status, attempts: attempt, upstreamMs: headersAt - started }
      } catch (err) {
        if (headersAt > 0 || req.signal.aborted) throw err
        if (signal.aborted) throw new UpstreamTimeoutError(endpoint)
        if (!replayable || attempt >= maxAttempts || !isConnectFailure(err)) throw new UpstreamConnectError(endpoint, attempt, err)
      }
    }
  }

  close(): Promise<void> {
    return this.#agent.close()
  }
}

function isConnectFailure(err: unknown): boolean {
  const code = (err as { code?: string })?.code
  return (
    err instanceof undiciErrors.ConnectTimeoutError ||
    err instanceof undiciErrors.SocketError ||
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'UND_ERR_SOCKET' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_CLOSED'
  )
}
