import type { Authenticated, CompiledAuthPolicy } from '../auth/auth-policy-engine.js'
import type { CelContext } from '../auth/cel.js'
import { readCredential } from '../auth/credentials.js'
import type { AccessLogRecord } from '../gateway/access-log.js'
import { AdmissionDenial, type Admission, type AdmissionRequest, type AdmissionTicket, type ModelServers } from '../gateway/admission.js'
import type { ResponseUsage } from '../gateway/response-usage.js'
import { UsageEventStrip } from '../gateway/usage-tap.js'
import type { ApiKeyStore } from '../keys/api-key-store.js'
import type { RateLimiter, TokenHold } from '../ratelimit/rate-limiter.js'
import { promptTokenBound, requestedMaxTokens } from '../ratelimit/token-estimate.js'
import type { AdmissionMetrics } from './admission-metrics.js'

/** A request that names no max_tokens may generate up to what its token limits have left (and is capped to that). */
const UNBOUNDED = 1 << 30

const RATE_LIMITED_BODY = (message: string) => JSON.stringify({ error: { message, type: 'rate_limit_exceeded', param: null, code: 'rate_limit_exceeded' } })
const UNAVAILABLE_BODY = (message: string) => JSON.stringify({ error: { message, type: 'server_error', param: null, code: 'rate_limit_store_unavailable' } })

export interface PolicyAdmissionParts {
  gateway: string
  auth: CompiledAuthPolicy | undefined
  limiter: RateLimiter | undefined
  metrics: AdmissionMetrics
  keyStore: () => ApiKeyStore | undefined
  log: (line: string) => void
}

/** A route rule's AuthPolicy and rate limits, as the gateway's admission stage. */
export class PolicyAdmission implements Admission {
  constructor(readonly parts: PolicyAdmissionParts) {}

  start(request: AdmissionRequest, record: AccessLogRecord): AdmissionTicket {
    return new PolicyTicket(this.parts, request, record)
  }
}

class PolicyTicket implements AdmissionTicket {
  upstreamQuery: string
  responseHeaders: Record<string, string> | undefined
  tap: UsageEventStrip | undefined
  readonly #context: CelContext
  #auth: Authenticated | undefined
  #hold: TokenHold | undefined
  #tier: string | undefined

  constructor(
    private readonly parts: PolicyAdmissionParts,
    private readonly request: AdmissionRequest,
    private readonly record: AccessLogRecord,
  ) {
    this.upstreamQuery = request.query
    this.#context = { request: { path: request.path, url_path: request.path, query: request.query, method: request.method, host: request.host, headers: request.headers } }
  }

  async authenticate(): Promise<void> {
    const policy = this.parts.auth
    if (!policy) return
    const { request } = this
    const query = request.query.length > 1 ? new URLSearchParams(request.query.slice(1)) : undefined
    try {
      this.#auth = await policy.authenticate(this.#context, (source) => readCredential(source, request, query))
    } catch (err) {
      if (err instanceof AdmissionDenial) this.parts.metrics.auth.labels(this.parts.gateway, err.status === 401 ? 'unauthenticated' : 'unauthorized').inc()
      throw err
    }
    if (query && policy.stripQuery.some((name) => query.has(name))) {
      for (const name of policy.stripQuery) query.delete(name)
      const rest = query.toString()
      this.upstreamQuery = rest === '' ? '' : `?${rest}`
    }
    const exported = this.#auth.exported
    if (typeof exported.tier === 'string') this.#tier = this.record.tier = exported.tier
    const key = this.#auth.resolved.key
    if (key) this.record.key_prefix = key.prefix
  }

  get credentialHeaders(): ReadonlySet<string> | undefined {
    return this.parts.auth?.stripHeaders
  }

  upstreamHeaders(headers: Record<string, string | string[]>): void {
    if (this.#auth) Object.assign(headers, this.#auth.upstreamHeaders)
  }

  async admit(body: Readonly<Record<string, unknown>> | undefined, servers?: ModelServers): Promise<Record<string, unknown> | undefined> {
    const { auth: policy, limiter, metrics } = this.parts
    const auth = this.#auth
    if (policy && auth) {
      if (policy.checksModels) {
        try {
          policy.authorizeModel(auth, typeof body?.model === 'string' ? body.model : undefined, this.#context)
        } catch (err) {
          metrics.auth.labels(this.parts.gateway, 'unauthorized').inc()
          throw err
        }
      }
      metrics.auth.labels(this.parts.gateway, 'allowed').inc()
      // Rate limits see the identity the policy exported (predicates evaluated over the full identity no longer hold).
      this.#context.auth = { identity: auth.exported }
      this.#context.memo = undefined
      // A key's exported identity is one shared object unless the policy's filter read the request.
      this.#context.sharedIdentity = auth.resolved.key !== undefined
    }
    let fields: Record<string, unknown> | undefined
    const counted = body !== undefined && (limiter?.limitsTokens || auth?.resolved.key !== undefined)
    const prompt = counted ? promptTokenBound(body) : 0
    const max = counted ? requestedMaxTokens(body) : undefined
    if (limiter) {
      const need = counted && limiter.limitsTokens ? prompt + (max ?? 1) : 0
      const decision = await limiter.admit(this.#context, need, need === 0 ? 0 : prompt + (max ?? UNBOUNDED))
      if (!decision.admitted) {
        this.record.response_flags = decision.status === 429 ? 'RL' : 'RLSE'
        throw new AdmissionDenial(decision.status, decision.headers, (decision.status === 429 ? RATE_LIMITED_BODY : UNAVAILABLE_BODY)(decision.message), this.record.response_flags)
      }
      this.responseHeaders = decision.headers
      this.#hold = decision.hold
      // No max_tokens: the reservation is the cap, so the model can never generate past it — unless the model's own
      // context is the smaller bound (vLLM refuses a max_tokens past it; without one it stops there anyway).
      if (decision.hold && max === undefined) {
        const context = servers && smallestContext(servers)
        if (context === undefined || decision.granted < context) fields = { max_tokens: decision.granted - prompt }
      }
    }
    if (counted) {
      const stream = body.stream === true
      const options = body.stream_options as { include_usage?: unknown } | undefined
      const injected = stream && options?.include_usage !== true
      if (injected) {
        ;(fields ??= {}).stream_options = { ...(typeof options === 'object' && options !== null ? options : {}), include_usage: true }
        this.tap = new UsageEventStrip()
      }
    }
    if (this.#tier !== undefined) metrics.tierRequests.labels(this.#tier).inc()
    return fields
  }

  settle(status: number, answered: ResponseUsage | undefined): void {
    const usage = status >= 200 && status < 300 ? answered : undefined
    const hold = this.#hold
    if (hold) {
      // No answer, or an error answer: nothing was generated. A 2xx without usage (cut short) keeps its reservation.
      const used = status >= 200 && status < 300 ? (usage?.totalTokens ?? hold.granted) : 0
      this.parts.limiter!.settle(hold, used).catch((err: Error) =>
        this.parts.log(`token limit settle failed (counters keep the reservation): ${err.message}`),
      )
    }
    const tier = this.#tier
    if (usage && tier !== undefined) {
      this.parts.metrics.tierTokens.labels(tier, 'prompt').inc(usage.promptTokens)
      this.parts.metrics.tierTokens.labels(tier, 'completion').inc(usage.completionTokens)
    }
    const key = this.#auth?.resolved.key
    if (key && status !== 0) this.parts.keyStore()?.recordUsage(key.id, { requests: 1, promptTokens: usage?.promptTokens ?? 0, completionTokens: usage?.completionTokens ?? 0 })
  }
}

/** The smallest context length the servers reported (the pick is not made yet), or undefined if none did. */
function smallestContext(servers: ModelServers): number | undefined {
  let min: number | undefined
  for (const e of servers.endpoints()) if (e.maxModelLen !== undefined && (min === undefined || e.maxModelLen < min)) min = e.maxModelLen
  return min
}
