import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { durationToMs } from '../config/object-meta.js'
import { PickerError } from '../picker/endpoint-picker.js'
import type { EndpointRef } from '../picker/endpoint.js'
import type { AccessLog, AccessLogRecord } from './access-log.js'
import { chooseWeighted, type BackendResolver, type PoolBackend, type ResolvedBackend } from './backend.js'
import { explainHeader } from './explain-header.js'
import { normalizePath, splitTarget } from './normalize-path.js'
import { GatewayError, sendOpenAIError } from './openai-error.js'
import { parseInferenceBody, readRequestBody } from './request-body.js'
import { applyRouteFilters, modifyHeaders } from './route-filters.js'
import type { CompiledMatch, RouteTable } from './route-table.js'
import { UpstreamConnectError, UpstreamTimeoutError, upstreamRequestHeaders, type ForwardResult, type UpstreamProxy } from './upstream-proxy.js'

export interface ListenerContext {
  gateway: string
  listener: string
  scheme: 'http' | 'https'
  port: number
}

export interface HandlerOptions {
  maxBodyBytes: number
  maxAttempts: number
  random: () => number
}

/** Mutable per-request facts that end up in the access log. */
interface Exchange {
  record: AccessLogRecord
  started: number
  /** The connection is kept alive across requests, so bytes sent are counted from here. */
  socketBytesAtStart: number
  socket: { readonly bytesWritten: number }
}

/**
 * The gateway pipeline for one listener: normalise → route match → filters → backend (picker or round-robin) → proxy →
 * access log. The route table and backends are swapped atomically on reload.
 */
export class RequestHandler {
  routes: RouteTable
  backends: BackendResolver

  constructor(
    readonly listener: ListenerContext,
    routes: RouteTable,
    backends: BackendResolver,
    private readonly proxy: UpstreamProxy,
    private readonly log: AccessLog,
    private readonly options: HandlerOptions,
  ) {
    this.routes = routes
    this.backends = backends
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const requestId = headerValue(req.headers['x-request-id']) ?? randomUUID()
    const { path: rawPath, query } = splitTarget(req.url ?? '/')
    const ex: Exchange = { started: performance.now(), socket: req.socket, socketBytesAtStart: req.socket.bytesWritten, record: this.#newRecord(req, requestId, rawPath + query) }
    res.on('close', () => this.#finish(ex, res))
    this.#route(req, res, ex, rawPath, query).catch((err: unknown) => this.#fail(res, ex, err))
  }

  async #route(req: IncomingMessage, res: ServerResponse, ex: Exchange, rawPath: string, query: string): Promise<void> {
    const path = normalizePath(rawPath)
    if (path === undefined) throw new GatewayError(400, `invalid request path ${JSON.stringify(rawPath)}`, 'invalid_path')
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1')
    const match = this.routes.match({ method: req.method ?? 'GET', path, host, headers: req.headers, query: new URLSearchParams(query) })
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
    const backend = this.#chooseBackend(match)
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
    const timer = requestTimeout > 0 ? setTimeout(() => controller.abort(new UpstreamTimeoutError(undefined as never)), requestTimeout) : undefined
    const responseHeaders = (endpoint: EndpointRef): Record<string, string> => {
      const extra: Record<string, string> = { 'x-request-id': ex.record.request_id, 'x-gateway-destination-endpoint-served': endpoint.address }
      if (rewrite.responseHeaders) modifyHeaders(extra, rewrite.responseHeaders)
      return extra
    }
    const forward = {
      method: req.method ?? 'GET',
      path: rewrite.path + query,
      headers,
      signal: controller.signal,
      responseHeaders,
      attemptTimeoutMs: match.rule.timeouts?.backendRequest ? durationToMs(match.rule.timeouts.backendRequest) : 0,
      onHeaders: (r: ForwardResult) => this.#upstreamDone(ex, r),
    }
    try {
      if (backend.kind === 'InferencePool') await this.#toPool(req, res, ex, backend, forward, rewrite.path)
      else {
        const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
        await this.proxy.forward({ ...forward, body: hasBody ? req : null }, res, () => backend.next(), this.options.maxAttempts)
      }
    } finally {
      if (timer) clearTimeout(timer)
    }
  }

  async #toPool(
    req: IncomingMessage,
    res: ServerResponse,
    ex: Exchange,
    pool: PoolBackend,
    forward: Omit<Parameters<UpstreamProxy['forward']>[0], 'body'>,
    upstreamPath: string,
  ): Promise<void> {
    const body = await readRequestBody(req, this.options.maxBodyBytes)
    ex.record.bytes_received = body.length
    const parsed = parseInferenceBody(body)
    const explain = headerValue(req.headers['x-maitred-explain']) === '1'
    const decision = await pool.picker.pick(
      { requestId: ex.record.request_id, path: upstreamPath, headers: req.headers as Record<string, string | undefined>, body: parsed },
      { explain },
    )
    ex.record.picker_profiles = decision.profiles
    if (explain && decision.explain) ex.record.explain = decision.explain
    const order = [decision.endpoint, ...decision.fallbacks]
    let next = 0
    const headers = { ...forward.headers, ...decision.headers, 'x-gateway-destination-endpoint': decision.endpoint.address }
    const responseHeaders = (endpoint: EndpointRef) => ({
      ...forward.responseHeaders(endpoint),
      ...(explain && decision.explain ? { 'x-maitred-explain': explainHeader(decision.explain) } : {}),
    })
    let endpoint: EndpointRef | undefined
    let status = 0
    try {
      const result = await this.proxy.forward({ ...forward, headers, body, responseHeaders }, res, () => order[next++], this.options.maxAttempts)
      endpoint = result.endpoint
      status = result.status
    } finally {
      pool.picker.complete({ requestId: ex.record.request_id, endpoint: endpoint ?? decision.endpoint, status: status || 503 })
    }
  }

  #chooseBackend(match: CompiledMatch): ResolvedBackend {
    const refs = match.rule.backendRefs ?? []
    if (refs.length === 0) throw new GatewayError(500, 'the matched rule has no backendRefs', 'no_backend')
    const index = chooseWeighted(refs.map((r) => r.weight), this.options.random)
    if (index === undefined) throw new GatewayError(503, 'every backendRef of the matched rule has weight 0', 'no_healthy_upstream')
    const backend = this.backends(`${match.route.metadata.namespace}/${match.route.metadata.name}`, match.ruleIndex, index)
    if (!backend) throw new GatewayError(500, `backendRef ${refs[index]!.kind}/${refs[index]!.name} does not resolve`, 'backend_not_found')
    return backend
  }

  #upstreamDone(ex: Exchange, r: ForwardResult): void {
    ex.record.upstream_host = r.endpoint.address
    ex.record.attempts = r.attempts
    ex.record.upstream_service_time_ms = Math.round(r.upstreamMs)
  }

  #fail(res: ServerResponse, ex: Exchange, err: unknown): void {
    if (err instanceof GatewayError) return sendOpenAIError(res, err.status, err.message, err.code)
    if (err instanceof PickerError) {
      ex.record.response_flags = err.status === 503 ? 'UH' : 'RL'
      return sendOpenAIError(res, err.status, err.message, err.code)
    }
    if (err instanceof UpstreamTimeoutError || (err as Error)?.name === 'TimeoutError') {
      ex.record.response_flags = 'UT'
      return sendOpenAIError(res, 504, 'upstream request timeout', 'upstream_timeout')
    }
    if (err instanceof UpstreamConnectError) {
      ex.record.response_flags = err.attempts > 1 ? 'URX' : 'UF'
      ex.record.attempts = err.attempts
      if (err.endpoint) ex.record.upstream_host = err.endpoint.address
      return sendOpenAIError(res, 503, err.message, 'upstream_connect_error')
    }
    if (res.destroyed || (err as Error)?.name === 'AbortError') {
      ex.record.response_flags = 'DC'
      res.destroy()
      return
    }
    sendOpenAIError(res, 500, `internal gateway error: ${(err as Error)?.message ?? String(err)}`, 'internal_error')
  }

  #newRecord(req: IncomingMessage, requestId: string, target: string): AccessLogRecord {
    return {
      start_time: new Date().toISOString(),
      request_id: requestId,
      gateway: this.listener.gateway,
      listener: this.listener.listener,
      method: req.method ?? 'GET',
      path: target,
      protocol: `HTTP/${req.httpVersion}`,
      authority: req.headers.host,
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

  #finish(ex: Exchange, res: ServerResponse): void {
    const r = ex.record
    r.response_code = res.statusCode
    if (!res.writableFinished && r.response_flags === '-') r.response_flags = 'DC'
    r.bytes_sent = ex.socket.bytesWritten - ex.socketBytesAtStart
    r.duration_ms = Math.round(performance.now() - ex.started)
    this.log(r)
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}
