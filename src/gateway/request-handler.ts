import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Http2ServerRequest } from 'node:http2'
import { durationToMs } from '../config/object-meta.js'
import { PickerError, type Decision } from '../picker/endpoint-picker.js'
import type { EndpointRef } from '../picker/endpoint.js'
import { formatExplainHeader } from '../picker/framework/explain.js'
import type { AccessLog, AccessLogRecord } from './access-log.js'
import { chooseWeighted, type BackendResolver, type PoolBackend, type ResolvedBackend } from './backend.js'
import type { ClientResponse } from './client-sink.js'
import { normalizePath, splitTarget } from './normalize-path.js'
import { GatewayError, sendOpenAIError } from './openai-error.js'
import { parseInferenceBody, readRequestBody } from './request-body.js'
import { applyRouteFilters, modifyHeaders } from './route-filters.js'
import type { CompiledMatch, RouteTable } from './route-table.js'
import {
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
interface Exchange {
  record: AccessLogRecord
  started: number
  /** The connection is kept alive across requests, so bytes sent are counted from here. */
  socket: { readonly bytesWritten: number }
  socketBytesAtStart: number
}

/** What a listener hands the handler: its routes and backends, swapped together on reload. */
export interface RoutingState {
  routes: RouteTable
  backends: BackendResolver
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

  handle(req: ClientRequest, res: ClientResponse): void {
    const requestId = headerValue(req.headers['x-request-id']) ?? randomUUID()
    const { path: rawPath, query } = splitTarget(req.url ?? '/')
    const socket = req.socket as unknown as { bytesWritten: number }
    const ex: Exchange = { started: performance.now(), socket, socketBytesAtStart: socket.bytesWritten ?? 0, record: this.#newRecord(req, requestId, rawPath + query) }
    res.on('close', () => this.#finish(ex, res))
    this.#route(req, res, ex, rawPath, query, this.state).catch((err: unknown) => this.#fail(res, ex, err))
  }

  async #route(req: ClientRequest, res: ClientResponse, ex: Exchange, rawPath: string, query: string, state: RoutingState): Promise<void> {
    const path = normalizePath(rawPath)
    if (path === undefined) throw new GatewayError(400, `invalid request path ${JSON.stringify(rawPath)}`, 'invalid_path')
    const host = requestHost(req)
    const match = state.routes.match({ method: req.method ?? 'GET', path, host, headers: req.headers, query: new URLSearchParams(query) })
    if (!match) {
      ex.record.response_flags = 'NR'
      throw new GatewayError(404, `no route for ${req.method} ${path} on gateway ${this.listener.gateway}`, 'route_not_found')
    }
    ex.record.route_name = `${match.route.metadata.namespace}/${match.route.metadata.name}/${match.rule.name ?? `rule-${match.ruleIndex}`}`
    const rewrite = applyRouteFilters(match, path, query, host, this.listener.scheme, this.listener.port)
    if (rewrite.redirect) {
      res.writeHead(rewrite.redirect.status, { location: rewrite.redirect.location, 'content-length': 0 })
      res.end()
      return
    }
    const backend = this.#chooseBackend(match, state.backends)
    ex.record.backend = backend.id
    ex.record.upstream_cluster = backend.cluster

    const headers = upstreamRequestHeaders(req.headers, { 'x-request-id': ex.record.request_id })
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? ''
    headers['x-forwarded-proto'] = this.listener.scheme
    if (rewrite.hostname) headers.host = rewrite.hostname
    for (const f of match.rule.filters ?? []) if (f.type === 'RequestHeaderModifier') modifyHeaders(headers, f.requestHeaderModifier)

    const controller = new AbortController()
    res.on('close', () => {
      if (!res.writableFinished) controller.abort()
    })
    const requestTimeout = match.rule.timeouts?.request ? durationToMs(match.rule.timeouts.request) : 0
    const timer = requestTimeout > 0 ? setTimeout(() => controller.abort(new UpstreamTimeoutError()), requestTimeout) : undefined
    const forward: Omit<ForwardRequest, 'body'> = {
      method: req.method ?? 'GET',
      path: rewrite.path + query,
      headers,
      signal: controller.signal,
      responseHeaders: (endpoint: EndpointRef): Record<string, string> => ({
        'x-request-id': ex.record.request_id,
        'x-gateway-destination-endpoint-served': endpoint.address,
      }),
      ...(rewrite.responseHeaders ? { modifyResponseHeaders: (h: Record<string, string | string[]>) => modifyHeaders(h, rewrite.responseHeaders!) } : {}),
      attemptTimeoutMs: match.rule.timeouts?.backendRequest ? durationToMs(match.rule.timeouts.backendRequest) : 0,
      onHeaders: (r: ForwardResult) => this.#upstreamDone(ex, r),
    }
    const retry = retryPolicy(match, this.options.retry)
    try {
      if (backend.kind === 'InferencePool') await this.#toPool(req, res, ex, backend, forward, rewrite.path, retry)
      else {
        const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined || (req.httpVersionMajor === 2 && !(req as Http2ServerRequest).stream.endAfterHeaders)
        await this.proxy.forward({ ...forward, body: hasBody ? (req as IncomingMessage) : null }, res, () => backend.next(), retry)
      }
    } finally {
      if (timer) clearTimeout(timer)
    }
  }

  async #toPool(
    req: ClientRequest,
    res: ClientResponse,
    ex: Exchange,
    pool: PoolBackend,
    forward: Omit<ForwardRequest, 'body'>,
    upstreamPath: string,
    retry: RetryPolicy,
  ): Promise<void> {
    const body = await readRequestBody(req, this.options.maxBodyBytes)
    ex.record.bytes_received = body.length
    const parsed = parseInferenceBody(body)
    const explain = headerValue(req.headers['x-maitred-explain']) === '1'
    const decision = await this.#pick(pool, ex, { requestId: ex.record.request_id, path: upstreamPath, headers: req.headers as Record<string, string | undefined>, body: parsed }, explain)
    ex.record.picker_profiles = decision.profiles
    if (explain && decision.explain) ex.record.explain = decision.explain
    // The picker's choice, then its fallbacks, then the rest of the pool: a retry never goes back to an endpoint that failed.
    const order = [decision.endpoint, ...decision.fallbacks]
    const tried = new Set<string>()
    const candidates = () => {
      const endpoint = order.find((e) => !tried.has(e.id)) ?? pool.endpoints().find((e) => !tried.has(e.id))
      if (endpoint) tried.add(endpoint.id)
      return endpoint
    }
    const headers = { ...forward.headers }
    for (const name of decision.removeHeaders ?? []) delete headers[name.toLowerCase()]
    Object.assign(headers, decision.headers, { 'x-gateway-destination-endpoint': decision.endpoint.address })
    const responseHeaders = (endpoint: EndpointRef) => ({
      ...forward.responseHeaders(endpoint),
      ...decision.responseHeaders,
      ...(explain && decision.explain ? { 'x-maitred-explain': formatExplainHeader(decision.explain) } : {}),
    })
    let outcome: { endpoint: EndpointRef; status: number } = { endpoint: decision.endpoint, status: 503 }
    try {
      outcome = await this.proxy.forward({ ...forward, headers, body, responseHeaders }, res, candidates, retry)
    } finally {
      pool.picker.complete({ requestId: ex.record.request_id, endpoint: outcome.endpoint, status: outcome.status })
    }
  }

  /**
   * Asks the pool's picker, bounded by a timeout. A deliberate answer (PickerError: 400/429/503) is returned to the client;
   * a picker that fails or does not answer in time is handled by the pool's failureMode: FailOpen forwards to a random
   * endpoint of the pool, FailClose answers 503.
   */
  async #pick(pool: PoolBackend, ex: Exchange, request: Parameters<PoolBackend['picker']['pick']>[0], explain: boolean): Promise<Decision> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`endpoint picker did not answer within ${this.options.pickerTimeoutMs} ms`)), this.options.pickerTimeoutMs)
    })
    try {
      return await Promise.race([pool.picker.pick(request, { explain }), timeout])
    } catch (err) {
      if (err instanceof PickerError) throw err
      const reason = (err as Error)?.message ?? String(err)
      const endpoints = pool.endpoints()
      if (pool.failureMode === 'FailClose' || endpoints.length === 0)
        throw new GatewayError(503, `endpoint picker unavailable (failureMode ${pool.failureMode}): ${reason}`, 'picker_unavailable')
      ex.record.response_flags = 'FO'
      const endpoint = endpoints[Math.floor(this.options.random() * endpoints.length)]!
      return { endpoint, fallbacks: [], headers: {}, profiles: ['fail-open'] }
    } finally {
      clearTimeout(timer)
    }
  }

  #chooseBackend(match: CompiledMatch, backends: BackendResolver): ResolvedBackend {
    const refs = match.rule.backendRefs ?? []
    if (refs.length === 0) throw new GatewayError(500, 'the matched rule has no backendRefs', 'no_backend')
    const index = chooseWeighted(refs.map((r) => r.weight), this.options.random)
    if (index === undefined) throw new GatewayError(503, 'every backendRef of the matched rule has weight 0', 'no_healthy_upstream')
    const backend = backends(`${match.route.metadata.namespace}/${match.route.metadata.name}`, match.ruleIndex, index)
    if (!backend) throw new GatewayError(500, `backendRef ${refs[index]!.kind}/${refs[index]!.name} does not resolve`, 'backend_not_found')
    return backend
  }

  #upstreamDone(ex: Exchange, r: ForwardResult): void {
    ex.record.upstream_host = r.endpoint.address
    ex.record.attempts = r.attempts
    ex.record.upstream_service_time_ms = Math.round(r.upstreamMs)
  }

  #fail(res: ClientResponse, ex: Exchange, err: unknown): void {
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
      return
    }
    sendOpenAIError(res, 500, `internal gateway error: ${(err as Error)?.message ?? String(err)}`, 'internal_error')
  }

  #newRecord(req: ClientRequest, requestId: string, target: string): AccessLogRecord {
    return {
      start_time: new Date().toISOString(),
      request_id: requestId,
      gateway: this.listener.gateway,
      listener: this.listener.listener,
      method: req.method ?? 'GET',
      path: target,
      protocol: `HTTP/${req.httpVersion}`,
      authority: requestHost(req) || undefined,
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
    r.bytes_sent = (ex.socket.bytesWritten ?? 0) - ex.socketBytesAtStart
    r.duration_ms = Math.round(performance.now() - ex.started)
    this.log(r)
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
  return authority.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1')
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}
