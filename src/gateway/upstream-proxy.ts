import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import type { EndpointRef } from '../picker/endpoint.js'
import type { ResponseTap } from './admission.js'
import type { ClientResponse } from './client-response.js'
import { ClientSink, type ClientSinkOptions, type SentBytes, type SinkOutcome } from './client-sink.js'
import { UpstreamPool } from './upstream-pool.js'

/** Hop-by-hop headers (RFC 9110 §7.6.1) never cross the proxy; `host` is set by the client for the upstream origin. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'http2-settings'])

/** The client's headers as they go upstream: hop-by-hop headers, pseudo-headers and `omit` (credentials) left out. */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, extra: Readonly<Record<string, string>>, omit?: ReadonlySet<string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const name in incoming) {
    const value = incoming[name]
    if (value !== undefined && !HOP_BY_HOP.has(name) && name.charCodeAt(0) !== 58 /* ':' */ && !omit?.has(name)) out[name] = value
  }
  for (const name in extra) out[name.toLowerCase()] = extra[name]!
  return out
}

function responseHeaders(upstream: IncomingHttpHeaders, extra: Readonly<Record<string, string>>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const name in upstream) {
    const value = upstream[name]
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value
  }
  for (const name in extra) out[name] = extra[name]!
  return out
}

/**
 * Cancels a forwarded request (client gone, route timeout) — the attempt in flight is aborted with the reason. A plain
 * object rather than an AbortController: one is made per request, and EventTarget-based signals are costly there.
 */
export class Cancellation {
  #reason: Error | undefined
  #target: { abort(reason: Error): void } | undefined

  get cancelled(): boolean {
    return this.#reason !== undefined
  }

  get reason(): Error | undefined {
    return this.#reason
  }

  cancel(reason: Error = new DOMException('This operation was aborted', 'AbortError')): void {
    if (this.#reason) return
    this.#reason = reason
    this.#target?.abort(reason)
  }

  /** What a cancel aborts: the attempt in flight (aborted at once if already cancelled); replaced by the next attempt. */
  attach(target: { abort(reason: Error): void } | undefined): void {
    this.#target = target
    if (target && this.#reason) target.abort(this.#reason)
  }
}

export interface ForwardRequest {
  method: string
  /** Path and query as the upstream sees them. */
  path: string
  headers: Record<string, string | string[]>
  /** A buffered body can be replayed on another endpoint; a stream cannot. */
  body: Buffer | Readable | null
  cancellation: Cancellation
  /** Headers added to the client response (e.g. the endpoint that served it). */
  responseHeaders: (endpoint: EndpointRef) => Record<string, string>
  /** The route's ResponseHeaderModifier, applied to the merged upstream + gateway headers. */
  modifyResponseHeaders?: (headers: Record<string, string | string[]>) => void
  /** Per-attempt timeout (Gateway API backendRequest); 0 = none. */
  attemptTimeoutMs: number
  /** Called when upstream response headers arrive, before any byte goes to the client. */
  onHeaders?: (result: ForwardResult) => void
  /** Counts the response body bytes written to the client. */
  readonly sent: SentBytes
  /** Called with each response body chunk that goes to the client. */
  onBody?: (chunk: Buffer) => void
  /** Reads the response body on its way to the client (token usage), when admission asked for it. */
  tap?: ResponseTap | undefined
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
 * 3 tries in all. Retries of 503 answers may use up to half the requests in flight (at least 10) before the budget
 * protects an overloaded fleet; connections to an endpoint that is gone are moved regardless (see RetryBudget.allows).
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 3, codes: [503], budgetRatio: 0.5, minRetryConcurrency: 10 }

/**
 * The forwarding half of the gateway: keep-alive connections to every model server (UpstreamPool). Responses stream to the
 * client chunk by chunk (the connection drives a ClientSink as bytes arrive); the request body is forwarded intact.
 */
export class UpstreamProxy {
  readonly #pool: UpstreamPool
  readonly #budget = new RetryBudget()
  /** Attempts in flight per upstream origin, so a retired endpoint can be stopped once it has no traffic left. */
  readonly #perOrigin = new Map<string, number>()
  readonly #idleWaiters = new Map<string, Set<() => void>>()

  constructor(options: { connectTimeoutMs?: number } = {}) {
    this.#pool = new UpstreamPool({ connectTimeoutMs: options.connectTimeoutMs ?? 2_000, keepAliveTimeoutMs: 4_000 })
  }

  /**
   * Tries `candidates` in order until one answers. Retries only failures before any response byte (connect errors, and
   * the policy's status codes), only when the body is replayable (buffered or absent), and only within the retry budget.
   */
  async forward(req: ForwardRequest, res: ClientResponse, candidates: Candidates, policy: RetryPolicy): Promise<ForwardResult> {
    const started = performance.now()
    const budget = this.#budget
    const retry: RetryState = { policy, replayable: req.body === null || Buffer.isBuffer(req.body), retrying: false }
    budget.inFlight++
    try {
      for (let number = 1; ; number++) {
        const endpoint = candidates.next()
        if (!endpoint) throw new UpstreamConnectError(undefined, number - 1, new Error('no healthy upstream'))
        this.#perOrigin.set(endpoint.url, (this.#perOrigin.get(endpoint.url) ?? 0) + 1)
        const attempt = new Attempt(req, endpoint, number, started, budget, retry)
        const sink = new ClientSink(res, attempt, req.sent)
        let timer: NodeJS.Timeout | undefined
        try {
          const outcome = new Promise<SinkOutcome>((resolve, reject) => attempt.settleWith(resolve, reject))
          req.cancellation.attach(sink)
          if (req.attemptTimeoutMs > 0)
            timer = setTimeout(() => {
              attempt.timedOut = true
              sink.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))
            }, req.attemptTimeoutMs)
          this.#pool.dispatch(endpoint, req, sink)
          if (!(await outcome).retry) return { endpoint, status: attempt.status, attempts: number, upstreamMs: attempt.headersAt - started }
        } catch (err) {
          if (sink.started || req.cancellation.cancelled) throw err
          if (attempt.timedOut) throw new UpstreamTimeoutError(endpoint)
          if (!isConnectFailure(err) || !budget.allows(retry, number, true)) throw new UpstreamConnectError(endpoint, number, err)
        } finally {
          clearTimeout(timer)
          req.cancellation.attach(undefined)
          this.#attemptDone(endpoint.url)
        }
      }
    } finally {
      budget.inFlight--
      if (retry.retrying) budget.retrying--
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
    await this.#pool.close()
  }
}
/** Where forward() takes its endpoints from, in order (a Service's round-robin, or the picker's choice and fallbacks). */
export interface Candidates {
  next(): EndpointRef | undefined
}

/** One forwarded request's standing with the retry budget. */
interface RetryState {
  readonly policy: RetryPolicy
  /** A buffered (or absent) body can be sent again; a streamed one cannot. */
  readonly replayable: boolean
  /** Holds one of the budget's retry slots (taken at its first retry, released when the request is done). */
  retrying: boolean
}

/** Envoy-style retry budget over every request the proxy forwards. */
class RetryBudget {
  inFlight = 0
  retrying = 0

  /**
   * Whether a request that has made `attempt` tries may make another. The budget bounds retries of answers (a 503 says
   * the fleet is overloaded, where retries would amplify the load); a connection that failed before any answer means the
   * endpoint is gone, and moving its requests elsewhere is failover, not amplification, so only the attempt count bounds it.
   */
  allows(state: RetryState, attempt: number, endpointGone = false): boolean {
    const policy = state.policy
    if (!state.replayable || attempt >= policy.attempts) return false
    if (!endpointGone && !state.retrying && this.retrying >= Math.max(policy.minRetryConcurrency, policy.budgetRatio * this.inFlight)) return false
    if (!state.retrying) this.retrying++
    state.retrying = true
    return true
  }
}

/** One try of a forwarded request on one endpoint: decides, when upstream headers arrive, whether to answer or retry. */
class Attempt implements ClientSinkOptions {
  headersAt = 0
  status = 0
  timedOut = false
  #resolve: ((outcome: SinkOutcome) => void) | undefined
  #reject: ((err: Error) => void) | undefined

  constructor(
    private readonly req: ForwardRequest,
    private readonly endpoint: EndpointRef,
    private readonly number: number,
    private readonly started: number,
    private readonly budget: RetryBudget,
    private readonly retry: RetryState,
  ) {}

  get tap(): ResponseTap | undefined {
    return this.req.tap
  }

  settleWith(resolve: (outcome: SinkOutcome) => void, reject: (err: Error) => void): void {
    this.#resolve = resolve
    this.#reject = reject
  }

  onHeaders(statusCode: number, headers: IncomingHttpHeaders): { headers: Record<string, string | string[]> } | undefined {
    if (this.retry.policy.codes.includes(statusCode) && this.budget.allows(this.retry, this.number)) return undefined
    const req = this.req
    this.headersAt = performance.now()
    this.status = statusCode
    req.onHeaders?.({ endpoint: this.endpoint, status: statusCode, attempts: this.number, upstreamMs: this.headersAt - this.started })
    const out = responseHeaders(headers, req.responseHeaders(this.endpoint))
    req.modifyResponseHeaders?.(out)
    return { headers: out }
  }

  onDone(outcome: SinkOutcome): void {
    this.#resolve?.(outcome)
  }

  onBody(chunk: Buffer): void {
    this.req.onBody?.(chunk)
  }

  onError(err: Error): void {
    this.#reject?.(err)
  }
}

/** Failures before any response byte that say the endpoint is unreachable or gone (socket codes, and the pool's own). */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'UPSTREAM_CLOSED', 'UPSTREAM_CONNECT_TIMEOUT'])

function isConnectFailure(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' && CONNECT_FAILURES.has(code)
}
