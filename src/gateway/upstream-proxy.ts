import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import { Writable, type Readable } from 'node:stream'
import { Agent, errors as undiciErrors } from 'undici'
import type { EndpointRef } from '../picker/endpoint.js'
import { ClientSink, type ClientResponse } from './client-sink.js'

/** Hop-by-hop headers (RFC 9110 §7.6.1) never cross the proxy; `host` is set by the client for the upstream origin. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'http2-settings'])

export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, extra: Readonly<Record<string, string>>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(incoming)) if (value !== undefined && !HOP_BY_HOP.has(name) && name[0] !== ':') out[name] = value
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
  /** The route's ResponseHeaderModifier, applied to the merged upstream + gateway headers. */
  modifyResponseHeaders?: (headers: Record<string, string | string[]>) => void
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
    readonly endpoint: EndpointRef | undefined,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`upstream connect error or disconnect/reset before headers: ${(cause as Error)?.message ?? String(cause)}`, { cause })
    this.name = 'UpstreamConnectError'
  }
}

export class UpstreamTimeoutError extends Error {
  constructor(readonly endpoint?: EndpointRef) {
    super('upstream request timeout')
    this.name = 'UpstreamTimeoutError'
  }
}

/** Retries: a bounded count per request, and a budget bounding retries to a share of the requests in flight (Envoy's retry budget). */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number
  /** Upstream statuses answered before any byte reached the client that are retried on another endpoint (e.g. 503). */
  codes: readonly number[]
  /** Most retries in flight, as a fraction of requests in flight (at least `minRetryConcurrency`). */
  budgetRatio: number
  minRetryConcurrency: number
}

/**
 * When a replica dies, every request in flight on it needs a retry at once: with two replicas that is half the traffic,
 * so the budget allows retries up to half the requests in flight (and at least 10) before it protects the survivors.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 3, codes: [503], budgetRatio: 0.5, minRetryConcurrency: 10 }

const discard = () => new Writable({ write: (_chunk, _enc, cb) => cb() })

/**
 * The forwarding half of the gateway: one pooled keep-alive undici Agent for all model servers. Responses stream to the
 * client chunk by chunk (undici writes into a ClientSink as bytes arrive); the request body is forwarded intact.
 */
export class UpstreamProxy {
  readonly #agent: Agent
  /** One pool per distinct upstream TLS setting (CA, SNI, verification); plain and default-trust endpoints share #agent. */
  readonly #tlsAgents = new Map<string, Agent>()
  readonly #connectTimeoutMs: number
  #inFlight = 0
  #retrying = 0
  /** Attempts in flight per upstream origin, so a retired endpoint can be stopped once it has no traffic left. */
  readonly #perOrigin = new Map<string, number>()
  readonly #idleWaiters = new Map<string, Set<() => void>>()

  constructor(options: { connectTimeoutMs?: number } = {}) {
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 2_000
    this.#agent = new Agent({ keepAliveTimeout: 4_000, connect: { timeout: this.#connectTimeoutMs }, pipelining: 1 })
  }

  #dispatcherFor(endpoint: EndpointRef): Agent {
    const tls = endpoint.tls
    if (!tls) return this.#agent
    const key = JSON.stringify([tls.ca ?? '', tls.serverName ?? '', tls.insecureSkipVerify ?? false])
    let agent = this.#tlsAgents.get(key)
    if (!agent) {
      agent = new Agent({
        keepAliveTimeout: 4_000,
        pipelining: 1,
        connect: {
          timeout: this.#connectTimeoutMs,
          ...(tls.ca ? { ca: tls.ca } : {}),
          ...(tls.serverName ? { servername: tls.serverName } : {}),
          rejectUnauthorized: !tls.insecureSkipVerify,
        },
      })
      this.#tlsAgents.set(key, agent)
    }
    return agent
  }

  /**
   * Tries `candidates()` in order until one answers. Retries only failures before any response byte (connect errors, and
   * the policy's status codes), only when the body is replayable (buffered or absent), and only within the retry budget.
   */
  async forward(req: ForwardRequest, res: ClientResponse, candidates: () => EndpointRef | undefined, policy: RetryPolicy): Promise<ForwardResult> {
    const started = performance.now()
    const replayable = req.body === null || Buffer.isBuffer(req.body)
    this.#inFlight++
    let retrying = false
    const mayRetry = (attempt: number) => {
      if (!replayable || attempt >= policy.attempts) return false
      if (!retrying && this.#retrying >= Math.max(policy.minRetryConcurrency, policy.budgetRatio * this.#inFlight)) return false
      if (!retrying) this.#retrying++
      retrying = true
      return true
    }
    try {
      for (let attempt = 1; ; attempt++) {
        const endpoint = candidates()
        if (!endpoint) throw new UpstreamConnectError(undefined, attempt - 1, new Error('no healthy upstream'))
        let headersAt = 0
        let status = 0
        let retryStatus = 0
        const signal = req.attemptTimeoutMs > 0 ? AbortSignal.any([req.signal, AbortSignal.timeout(req.attemptTimeoutMs)]) : req.signal
        this.#perOrigin.set(endpoint.url, (this.#perOrigin.get(endpoint.url) ?? 0) + 1)
        try {
          await this.#dispatcherFor(endpoint).stream(
            { origin: endpoint.url, path: req.path, method: req.method as 'GET', headers: req.headers, body: req.body, signal },
            ({ statusCode, headers }) => {
              if (policy.codes.includes(statusCode) && mayRetry(attempt)) {
                retryStatus = statusCode
                return discard()
              }
              headersAt = performance.now()
              status = statusCode
              req.onHeaders?.({ endpoint, status, attempts: attempt, upstreamMs: headersAt - started })
              const out = responseHeaders(headers, req.responseHeaders(endpoint))
              req.modifyResponseHeaders?.(out as Record<string, string | string[]>)
              res.writeHead(statusCode, out)
              return new ClientSink(res, String(headers['content-type'] ?? '').startsWith('text/event-stream'))
            },
          )
          if (retryStatus === 0) return { endpoint, status, attempts: attempt, upstreamMs: headersAt - started }
        } catch (err) {
          if (headersAt > 0 || req.signal.aborted) throw err
          if (signal.aborted) throw new UpstreamTimeoutError(endpoint)
          if (!isConnectFailure(err) || !mayRetry(attempt)) throw new UpstreamConnectError(endpoint, attempt, err)
        } finally {
          this.#attemptDone(endpoint.url)
        }
      }
    } finally {
      this.#inFlight--
      if (retrying) this.#retrying--
    }
  }

  /** Resolves once no request to `origin` is in flight (or after `timeoutMs`). */
  drained(origin: string, timeoutMs: number): Promise<void> {
    if (!this.#perOrigin.get(origin)) return Promise.resolve()
    return new Promise((resolve) => {
      const waiters = this.#idleWaiters.get(origin) ?? new Set()
      const done = () => {
        clearTimeout(timer)
        waiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, timeoutMs)
      waiters.add(done)
      this.#idleWaiters.set(origin, waiters)
    })
  }

  #attemptDone(origin: string): void {
    const left = (this.#perOrigin.get(origin) ?? 1) - 1
    if (left > 0) {
      this.#perOrigin.set(origin, left)
      return
    }
    this.#perOrigin.delete(origin)
    for (const wake of this.#idleWaiters.get(origin) ?? []) wake()
    this.#idleWaiters.delete(origin)
  }

  async close(): Promise<void> {
    await Promise.all([this.#agent.close(), ...[...this.#tlsAgents.values()].map((a) => a.close())])
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
