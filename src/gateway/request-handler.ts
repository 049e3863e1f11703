import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Http2ServerRequest } from 'node:http2'
import type { Readable } from 'node:stream'
import { PickerError, type Decision, type PickRequest } from '../picker/endpoint-picker.js'
import type { EndpointRef } from '../picker/endpoint.js'
import { formatExplainHeader } from '../picker/framework/explain.js'
import type { AccessLog, AccessLogRecord } from './access-log.js'
import { AdmissionDenial, type AdmissionResolver, type AdmissionTicket, type ResponseTap } from './admission.js'
import { chooseWeighted, type BackendResolver, type PoolBackend, type ResolvedBackend } from './backend.js'
import type { ClientResponse } from './client-response.js'
import type { SentBytes } from './client-sink.js'
import { isoNow } from './iso-now.js'
import { withTopLevelFields } from './json-body-fields.js'
import { normalizePath, splitTarget } from './normalize-path.js'
import { GatewayError, sendOpenAIError } from './openai-error.js'
import { parseInferenceBody, readRequestBody } from './request-body.js'
import { ResponseWatch } from './response-usage.js'
import { applyRouteFilters, modifyHeaders, type RewriteResult } from './route-filters.js'
import type { CompiledMatch, RouteTable } from './route-table.js'
import {
  Cancellation,
  type Candidates,
  UpstreamConnectError,
  UpstreamTimeoutError,
  upstreamRequestHeaders,
  type ForwardRequest,
  type ForwardResult,
  type RetryPolicy,
  type UpstreamProxy,
} from './upstream-proxy.js'

export type ClientRequest = IncomingMessage | Http2ServerRequest

export interface ListenerContext {
  gateway: string
  listener: string
  scheme: 'http' | 'https'
  port: number
}

export interface HandlerOptions {
  maxBodyBytes: number
  retry: RetryPolicy
  /** How long a pick may take before the pool's failureMode applies (Envoy's ext_proc message timeout). */
  pickerTimeoutMs: number
  random: () => number
}

/** Mutable per-request facts that end up in the access log. */
interface Exchange extends SentBytes {
  record: AccessLogRecord
  started: number
  /** Cancels the upstream exchange when the client goes away or the route's request timeout fires. */
  cancellation: Cancellation
  /** What was forwarded, once routed: its response watch gives the access log TTFT and usage. */
  forward: RouteForward | undefined
}

/** What a listener hands the handler: its routes and backends, swapped together on reload. */
export interface RoutingState {
  routes: RouteTable
  backends: BackendResolver
  /** The AuthPolicy / rate limits of each route rule; absent when no policy applies to the listener. */
  admission?: AdmissionResolver | undefined
}

/**
 * The gateway pipeline for one listener: normalise → route match → filters → backend (picker or round-robin) → proxy →
 * access log. Routing state is replaced atomically on reload; requests in flight keep the state they started with.
 */
export class RequestHandler {
  constructor(
    readonly listener: ListenerContext,
    public state: RoutingState,
    private readonly proxy: UpstreamProxy,
    private readonly log: AccessLog,
    private readonly options: HandlerOptions,
  ) {}

  /** `host` is the request's host without port, when the caller has it already; `onClose` runs when the response closes. */
  handle(req: ClientRequest, res: ClientResponse, host: string = requestHost(req), onClose?: () => void): void {
    const requestId = headerValue(req.headers['x-request-id']) ?? randomUUID()
    const target = req.url ?? '/'
    const { path: rawPath, query } = splitTarget(target)
    const ex: Exchange = {
      started: performance.now(),
      bytesSent: 0,
      record: this.#newRecord(req, requestId, target, host),
      cancellation: new Cancellation(),
      forward: undefined,
    }
    res.on('close', () => {
      onClose?.()
      this.#finish(ex, res)
      if (!res.writableFinished) ex.cancellation.cancel()
    })
    this.#route(req, res, ex, rawPath, query, host, this.state).catch((err: unknown) => this.#fail(res, ex, err))
  }

  async #route(req: ClientRequest, res: ClientResponse, ex: Exchange, rawPath: string, query: string, host: string, state: RoutingState): Promise<unknown> {
    const path = normalizePath(rawPath)
    if (path === undefined) throw new GatewayError(400, `invalid request path ${JSON.stringify(rawPath)}`, 'invalid_path')
    const match = state.routes.match({ method: req.method ?? 'GET', path, host, headers: req.headers, query: query === '' ? NO_QUERY : new URLSearchParams(query) })
    if (!match) {
      ex.record.response_flags = 'NR'
      throw new GatewayError(404, `no route for ${req.method} ${path} on gateway ${this.listener.gateway}`, 'route_not_found')
    }
    ex.record.route_name = match.routeName
    // authenticate: from the head alone, before any body is read.
    const ticket = state.admission?.(match.routeKey, match.ruleIndex)?.start({ method: req.method ?? 'GET', path, query, host, headers: req.headers }, ex.record)
    const authenticating = ticket?.authenticate()
    if (authenticating) await authenticating
    const rewrite = applyRouteFilters(match, path, ticket ? ticket.upstreamQuery : query, host, this.listener.scheme, this.listener.port)
    if (rewrite.redirect) {
      res.writeHead(rewrite.redirect.status, { location: rewrite.redirect.location, 'content-length': 0 })
      res.end()
      return
    }
    const backend = this.#chooseBackend(match, state.backends)
    ex.record.backend = backend.id
    ex.record.upstream_cluster = backend.cluster

    const requestId = ex.record.request_id
    const headers = upstreamRequestHeaders(req.headers, { 'x-request-id': requestId }, ticket?.credentialHeaders)
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? ''
    headers['x-forwarded-proto'] = this.listener.scheme
    if (rewrite.hostname) headers.host = rewrite.hostname
    if (match.rule.filters) for (const f of match.rule.filters) if (f.type === 'RequestHeaderModifier') modifyHeaders(headers, f.requestHeaderModifier)
    ticket?.upstreamHeaders(headers)

    const cancellation = ex.cancellation
    const timer = match.requestTimeoutMs > 0 ? setTimeout(() => cancellation.cancel(new UpstreamTimeoutError()), match.requestTimeoutMs) : undefined
    const forward = new RouteForward(req.method ?? 'GET', rewrite.path + query, headers, cancellation, match.backendRequestTimeoutMs, ex, ex.record, rewrite.responseHeaders)
    ex.forward = forward
    const retry = retryPolicy(match, this.options.retry)
    let done: Promise<unknown>
    if (backend.kind === 'InferencePool') done = this.#toPool(req, res, ex, backend, forward, rewrite.path, retry, ticket)
    else {
      const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined || (req.httpVersionMajor === 2 && !(req as Http2ServerRequest).stream.endAfterHeaders)
      if (hasBody) forward.body = req as IncomingMessage
      const admitting = ticket && this.#admit(ticket, undefined, undefined, forward)
      if (admitting) await admitting
      done = this.proxy.forward(forward, res, backend, retry)
      if (ticket) done = done.finally(() => ticket.settle(forward.status, forward.watch.usage()))
    }
    // Without a route timeout there is nothing to clean up, so the exchange's promise is handed back as it is.
    if (!timer) return done
    try {
      await done
    } finally {
      clearTimeout(timer)
    }
  }

  async #toPool(
    req: ClientRequest,
    res: ClientResponse,
    ex: Exchange,
    pool: PoolBackend,
    forward: RouteForward,
    upstreamPath: string,
    retry: RetryPolicy,
    ticket: AdmissionTicket | undefined,
  ): Promise<void> {
    const body = await readRequestBody(req, this.options.maxBodyBytes)
    ex.record.bytes_received = body.length
    const parsed = parseInferenceBody(body)
    const admitting = ticket && this.#admit(ticket, body, parsed, forward, pool)
    if (admitting) await admitting
    // settle runs however the exchange ends (a pick or connect failure gives the token reservation back).
    try {
      const explain = headerValue(req.headers['x-maitred-explain']) === '1'
      const picked = this.#pick(pool, ex, { requestId: ex.record.request_id, path: upstreamPath, headers: req.headers as Record<string, string | undefined>, body: parsed }, explain)
      const decision = picked instanceof Promise ? await picked : picked
      ex.record.picker_profiles = decision.profiles
      if (explain && decision.explain) ex.record.explain = decision.explain
      // The headers object is this request's own (built by #route), so the picker's changes go straight into it.
      const headers = forward.headers
      if (decision.removeHeaders) for (const name of decision.removeHeaders) delete headers[name.toLowerCase()]
      Object.assign(headers, decision.headers)
      headers['x-gateway-destination-endpoint'] = decision.endpoint.address
      forward.decision = decision
      forward.explain = explain
      forward.body = forward.rewrittenBody ?? body
      let outcome: { endpoint: EndpointRef; status: number } = { endpoint: decision.endpoint, status: 503 }
      try {
        outcome = await this.proxy.forward(forward, res, new PoolCandidates(decision, pool), retry)
      } finally {
        const usage = forward.watch.usage()
        pool.picker.complete({
          decision,
          requestId: ex.record.request_id,
          endpoint: outcome.endpoint,
          status: outcome.status,
          durationMs: performance.now() - ex.started,
          model: typeof parsed?.model === 'string' ? parsed.model : undefined,
          promptTokens: usage?.promptTokens,
          completionTokens: usage?.completionTokens,
        })
      }
    } finally {
      ticket?.settle(forward.status, forward.watch.usage())
    }
  }

  /**
   * admit: model permission and rate limits (the body may be changed to cap its tokens); settle follows the exchange. A
   * promise only when the ticket's answer is one.
   */
  #admit(ticket: AdmissionTicket, body: Buffer | undefined, parsed: Record<string, unknown> | undefined, forward: RouteForward, pool?: PoolBackend): Promise<void> | undefined {
    const fields = ticket.admit(parsed, pool)
    if (fields instanceof Promise) return fields.then((f) => this.#admitted(ticket, body, parsed, forward, f))
    this.#admitted(ticket, body, parsed, forward, fields)
    return undefined
  }

  #admitted(ticket: AdmissionTicket, body: Buffer | undefined, parsed: Record<string, unknown> | undefined, forward: RouteForward, fields: Record<string, unknown> | undefined): void {
    if (fields && body && parsed) forward.rewrittenBody = withTopLevelFields(body, parsed, fields)
    forward.tap = ticket.tap
    forward.admissionHeaders = ticket.responseHeaders
  }

  /**
   * Asks the pool's picker; an answer it has to wait for is bounded by a timeout. A deliberate answer (PickerError:
   * 400/429/503) is returned to the client; a picker that fails or does not answer in time is handled by the pool's
   * failureMode: FailOpen forwards to a random endpoint of the pool, FailClose answers 503. A synchronous answer (the
   * in-process picker) comes back as it is: no promise, timer or event-loop turn per request.
   */
  #pick(pool: PoolBackend, ex: Exchange, request: PickRequest, explain: boolean): Decision | Promise<Decision> {
    let answer: Decision | Promise<Decision>
    try {
      answer = pool.picker.pick(request, { explain })
    } catch (err) {
      return this.#pickFailed(pool, ex, err)
    }
    return answer instanceof Promise ? this.#bounded(answer).catch((err: unknown) => this.#pickFailed(pool, ex, err)) : answer
  }

  #pickFailed(pool: PoolBackend, ex: Exchange, err: unknown): Decision {
    if (err instanceof PickerError) throw err
    const reason = (err as Error)?.message ?? String(err)
    const endpoints = pool.endpoints()
    if (pool.failureMode === 'FailClose' || endpoints.length === 0)
      throw new GatewayError(503, `endpoint picker unavailable (failureMode ${pool.failureMode}): ${reason}`, 'picker_unavailable')
    ex.record.response_flags = 'FO'
    const endpoint = endpoints[Math.floor(this.options.random() * endpoints.length)]!
    return { endpoint, fallbacks: [], headers: {}, profiles: ['fail-open'] }
  }

  /** The pick, or a rejection once the picker timeout passes (one promise and one timer, no Promise.race: per request). */
  #bounded(pick: Promise<Decision>): Promise<Decision> {
    const ms = this.options.pickerTimeoutMs
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`endpoint picker did not answer within ${ms} ms`)), ms)
      pick.then(
        (decision) => {
          clearTimeout(timer)
          resolve(decision)
        },
        (err: unknown) => {
          clearTimeout(timer)
          reject(err)
        },
      )
    })
  }

  #chooseBackend(match: CompiledMatch, backends: BackendResolver): ResolvedBackend {
    const refs = match.rule.backendRefs ?? []
    if (refs.length === 0) throw new GatewayError(500, 'the matched rule has no backendRefs', 'no_backend')
    const index = chooseWeighted(match.backendWeights, this.options.random)
    if (index === undefined) throw new GatewayError(503, 'every backendRef of the matched rule has weight 0', 'no_healthy_upstream')
    const backend = backends(match.routeKey, match.ruleIndex, index)
    if (!backend) throw new GatewayError(500, `backendRef ${refs[index]!.kind}/${refs[index]!.name} does not resolve`, 'backend_not_found')
    return backend
  }

  #fail(res: ClientResponse, ex: Exchange, err: unknown): void {
    ex.bytesSent += this.#sendError(res, ex, err)
  }

  /** Answers `err` as an OpenAI-shaped error (or cuts the connection); returns the body bytes written. */
  #sendError(res: ClientResponse, ex: Exchange, err: unknown): number {
    if (err instanceof AdmissionDenial) {
      ex.record.response_flags = err.flag
      if (res.headersSent) {
        res.destroy()
        return 0
      }
      const length = Buffer.byteLength(err.body)
      res.writeHead(err.status, { ...err.headers, 'content-length': length })
      res.end(err.body)
      return length
    }
    if (err instanceof GatewayError) return sendOpenAIError(res, err.status, err.message, err.code)
    if (err instanceof PickerError) {
      ex.record.response_flags = err.status === 503 ? 'UH' : err.status === 429 ? 'RL' : '-'
      return sendOpenAIError(res, err.status, err.message, err.code)
    }
    if (err instanceof UpstreamTimeoutError || (err as Error)?.name === 'TimeoutError') {
      ex.record.response_flags = 'UT'
      return sendOpenAIError(res, 504, 'upstream request timeout', 'upstream_timeout')
    }
    if (err instanceof UpstreamConnectError) {
      ex.record.response_flags = err.endpoint ? (err.attempts > 1 ? 'URX' : 'UF') : 'UH'
      ex.record.attempts = err.attempts
      if (err.endpoint) ex.record.upstream_host = err.endpoint.address
      return sendOpenAIError(res, 503, err.message, err.endpoint ? 'upstream_connect_error' : 'no_healthy_upstream')
    }
    if (res.destroyed || res.writableEnded || (err as Error)?.name === 'AbortError') {
      ex.record.response_flags = 'DC'
      if (!res.writableEnded) res.destroy()
      return 0
    }
    return sendOpenAIError(res, 500, `internal gateway error: ${(err as Error)?.message ?? String(err)}`, 'internal_error')
  }

  #newRecord(req: ClientRequest, requestId: string, target: string, host: string): AccessLogRecord {
    return {
      start_time: isoNow(),
      request_id: requestId,
      gateway: this.listener.gateway,
      listener: this.listener.listener,
      method: req.method ?? 'GET',
      path: target,
      protocol: req.httpVersion === '1.1' ? 'HTTP/1.1' : `HTTP/${req.httpVersion}`,
      authority: host || undefined,
      response_code: 0,
      response_flags: '-',
      route_name: undefined,
      backend: undefined,
      upstream_cluster: undefined,
      upstream_host: undefined,
      attempts: 0,
      bytes_received: Number(req.headers['content-length'] ?? 0),
      bytes_sent: 0,
      duration_ms: 0,
      upstream_service_time_ms: undefined,
      x_forwarded_for: headerValue(req.headers['x-forwarded-for']),
      user_agent: headerValue(req.headers['user-agent']),
    }
  }

  #finish(ex: Exchange, res: ClientResponse): void {
    const r = ex.record
    r.response_code = res.statusCode
    if (!res.writableFinished && r.response_flags === '-') r.response_flags = 'DC'
    r.bytes_sent = ex.bytesSent
    r.duration_ms = Math.round(performance.now() - ex.started)
    const watch = ex.forward?.watch
    if (watch && watch.firstByteAt > 0) {
      if (watch.streamed) r.ttft_ms = Math.round(watch.firstByteAt - ex.started)
      const usage = watch.usage()
      if (usage) {
        r.prompt_tokens = usage.promptTokens
        r.completion_tokens = usage.completionTokens
        if (usage.cachedTokens !== undefined) r.cached_tokens = usage.cachedTokens
      }
    }
    this.log(r)
  }
}

/**
 * What one request asks the upstream proxy: a class with methods rather than an object of closures, because one is built
 * for every request.
 */
class RouteForward implements ForwardRequest {
  body: Buffer | Readable | null = null
  /** The body as admission changed it (a token cap, a usage request). */
  rewrittenBody: Buffer | undefined
  tap: ResponseTap | undefined
  /** Rate-limit state for the client. */
  admissionHeaders: Record<string, string> | undefined
  /** The upstream status once headers arrived (0 before). */
  status = 0
  /** The picker's decision, for pool backends: its response headers (and explain summary) go to the client. */
  decision: Decision | undefined
  explain = false
  readonly watch = new ResponseWatch()

  constructor(
    readonly method: string,
    readonly path: string,
    readonly headers: Record<string, string | string[]>,
    readonly cancellation: Cancellation,
    readonly attemptTimeoutMs: number,
    readonly sent: SentBytes,
    private readonly record: AccessLogRecord,
    private readonly responseModifier: RewriteResult['responseHeaders'],
  ) {}

  responseHeaders(endpoint: EndpointRef): Record<string, string> {
    const extra: Record<string, string> = { 'x-request-id': this.record.request_id, 'x-gateway-destination-endpoint-served': endpoint.address }
    if (this.admissionHeaders) Object.assign(extra, this.admissionHeaders)
    const decision = this.decision
    if (decision) {
      if (decision.responseHeaders) Object.assign(extra, decision.responseHeaders)
      if (this.explain && decision.explain) extra['x-maitred-explain'] = formatExplainHeader(decision.explain)
    }
    return extra
  }

  /** The route's ResponseHeaderModifier, over the merged upstream and gateway headers. */
  modifyResponseHeaders(headers: Record<string, string | string[]>): void {
    if (this.responseModifier) modifyHeaders(headers, this.responseModifier)
  }

  onBody(chunk: Buffer): void {
    this.watch.onChunk(chunk)
  }

  onHeaders(r: ForwardResult): void {
    this.status = r.status
    const record = this.record
    record.upstream_host = r.endpoint.address
    record.attempts = r.attempts
    record.upstream_service_time_ms = Math.round(r.upstreamMs)
  }
}

/** The picker's choice, then its fallbacks, then the rest of the pool: a retry never goes back to an endpoint that failed. */
class PoolCandidates implements Candidates {
  /** Endpoints handed out after the first (made at the first retry: most requests never retry). */
  #tried: Set<string> | undefined
  #first = true

  constructor(
    private readonly decision: Decision,
    private readonly pool: PoolBackend,
  ) {}

  next(): EndpointRef | undefined {
    const chosen = this.decision.endpoint
    if (this.#first) {
      this.#first = false
      return chosen
    }
    const tried = (this.#tried ??= new Set([chosen.id]))
    const endpoint = this.decision.fallbacks.find((e) => !tried.has(e.id)) ?? this.pool.endpoints().find((e) => !tried.has(e.id))
    if (endpoint) tried.add(endpoint.id)
    return endpoint
  }
}

/** The rule's Gateway API retry settings over the gateway's defaults (its `attempts` counts retries, not tries). */
function retryPolicy(match: CompiledMatch, defaults: RetryPolicy): RetryPolicy {
  const r = match.rule.retry
  if (!r) return defaults
  return { ...defaults, ...(r.attempts !== undefined ? { attempts: r.attempts + 1 } : {}), ...(r.codes ? { codes: r.codes } : {}) }
}

/** Host without port, from `:authority` (HTTP/2) or `Host`. */
export function requestHost(req: ClientRequest): string {
  const authority = headerValue(req.headers[':authority']) ?? headerValue(req.headers.host) ?? ''
  // Strips a trailing `:<digits>`, then IPv6 brackets (a scan, not regular expressions: this runs on every request).
  let end = authority.length
  while (end > 0 && isDigit(authority.charCodeAt(end - 1))) end--
  const host = end > 0 && end < authority.length && authority.charCodeAt(end - 1) === 58 /* ':' */ ? authority.slice(0, end - 1) : authority
  return host.length >= 2 && host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

const isDigit = (code: number) => code >= 48 && code <= 57

/** What a request without a query string matches query rules against. */
const NO_QUERY: Pick<URLSearchParams, 'get'> = { get: () => null }

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}
