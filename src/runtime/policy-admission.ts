import type { Authenticated, CompiledAuthPolicy } from '../auth/auth-policy-engine.js'
import type { CelContext } from '../auth/cel.js'
import { readCredential } from '../auth/credentials.js'
import type { AccessLogRecord } from '../gateway/access-log.js'
import { AdmissionDenial, type Admission, type AdmissionRequest, type AdmissionTicket, type ModelServers } from '../gateway/admission.js'
import type { ResponseUsage } from '../gateway/response-usage.js'
import { UsageEventStrip } from '../gateway/usage-tap.js'
import type { ApiKeyStore } from '../keys/api-key-store.js'
import type { LimitDecision, RateLimiter, TokenHold } from '../ratelimit/rate-limiter.js'
import { promptTokenBound, requestedMaxTokens } from '../ratelimit/token-estimate.js'
import type { CounterSeries } from '../observability/bound-metrics.js'
import type { AdmissionMetrics, TierSeries } from './admission-metrics.js'

/** The usage request added to a stream whose client sent no stream_options (shared by every such request, so frozen). */
const INCLUDE_USAGE = Object.freeze({ include_usage: true })

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
  /** The series of this gateway's allowed requests, resolved once: it is counted on every request. */
  readonly allowed: CounterSeries

  constructor(readonly parts: PolicyAdmissionParts) {
    this.allowed = parts.metrics.auth.labels(parts.gateway, 'allowed')
  }

  start(request: AdmissionRequest, record: AccessLogRecord): AdmissionTicket {
    return new PolicyTicket(this, request, record)
  }
}

class PolicyTicket implements AdmissionTicket {
  upstreamQuery: string
  responseHeaders: Record<string, string> | undefined
  tap: UsageEventStrip | undefined
  readonly #context: CelContext
  #auth: Authenticated | undefined
  #hold: TokenHold | undefined
  #tier: TierSeries | undefined

  constructor(
    private readonly admission: PolicyAdmission,
    private readonly request: AdmissionRequest,
    private readonly record: AccessLogRecord,
  ) {
    this.upstreamQuery = request.query
    this.#context = { request: { path: request.path, url_path: request.path, query: request.query, method: request.method, host: request.host, headers: request.headers } }
  }

  private get parts(): PolicyAdmissionParts {
    return this.admission.parts
  }

  /** A promise only when an identity source must be waited for (a JWKS fetch); a key is checked at once. */
  authenticate(): Promise<void> | undefined {
    const policy = this.parts.auth
    if (!policy) return undefined
    const { request } = this
    const query = request.query.length > 1 ? new URLSearchParams(request.query.slice(1)) : undefined
    let auth: Authenticated | Promise<Authenticated>
    try {
      auth = policy.authenticate(this.#context, (source) => readCredential(source, request, query))
    } catch (err) {
      throw this.#denied(err)
    }
    if (auth instanceof Promise)
      return auth.then(
        (a) => this.#authenticated(policy, a, query),
        (err: unknown) => {
          throw this.#denied(err)
        },
      )
    this.#authenticated(policy, auth, query)
    return undefined
  }

  #denied(err: unknown): unknown {
    if (err instanceof AdmissionDenial) this.parts.metrics.auth.labels(this.parts.gateway, err.status === 401 ? 'unauthenticated' : 'unauthorized').inc()
    return err
  }

  #authenticated(policy: CompiledAuthPolicy, auth: Authenticated, query: URLSearchParams | undefined): void {
    this.#auth = auth
    if (query && policy.stripQuery.some((name) => query.has(name))) {
      for (const name of policy.stripQuery) query.delete(name)
      const rest = query.toString()
      this.upstreamQuery = rest === '' ? '' : `?${rest}`
    }
    const exported = auth.exported
    if (typeof exported.tier === 'string') this.#tier = this.parts.metrics.tier((this.record.tier = exported.tier))
    const key = auth.resolved.key
    if (key) this.record.key_prefix = key.prefix
  }

  get credentialHeaders(): ReadonlySet<string> | undefined {
    return this.parts.auth?.stripHeaders
  }

  upstreamHeaders(headers: Record<string, string | string[]>): void {
    if (this.#auth) Object.assign(headers, this.#auth.upstreamHeaders)
  }

  /** At once when the limits are answered at once (in memory, from a lease); a promise when the store must be asked. */
  admit(body: Readonly<Record<string, unknown>> | undefined, servers?: ModelServers): Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined> {
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
      this.admission.allowed.inc()
      // Rate limits see the identity the policy exported (predicates evaluated over the full identity no longer hold).
      this.#context.auth = { identity: auth.exported }
      this.#context.memo = undefined
      // A key's exported identity is one shared object unless the policy's filter read the request.
      this.#context.sharedIdentity = auth.resolved.key !== undefined
    }
    // The body whose tokens are counted (token limits, a key's usage), if any.
    const counted = limiter?.limitsTokens || auth?.resolved.key !== undefined ? body : undefined
    const prompt = counted ? promptTokenBound(counted) : 0
    const max = counted ? requestedMaxTokens(counted) : undefined
    if (!limiter) return this.#admitted(counted, undefined)
    const need = counted && limiter.limitsTokens ? prompt + (max ?? 1) : 0
    const decision = limiter.admit(this.#context, need, need === 0 ? 0 : prompt + (max ?? UNBOUNDED))
    if (decision instanceof Promise) return decision.then((d) => this.#admitted(counted, this.#limited(d, prompt, max, servers)))
    return this.#admitted(counted, this.#limited(decision, prompt, max, servers))
  }

  /** Takes the rate limits' decision (or throws their refusal); returns the token cap the body must get, if any. */
  #limited(decision: LimitDecision, prompt: number, max: number | undefined, servers: ModelServers | undefined): Record<string, unknown> | undefined {
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
      if (context === undefined || decision.granted < context) return { max_tokens: decision.granted - prompt }
    }
    return undefined
  }

  /** The fields a counted body (one whose usage is read) must get: `fields`, and a usage request for a stream without one. */
  #admitted(body: Readonly<Record<string, unknown>> | undefined, fields: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
    if (body) {
      const stream = body.stream === true
      const options = body.stream_options as { include_usage?: unknown } | undefined
      const injected = stream && options?.include_usage !== true
      if (injected) {
        ;(fields ??= {}).stream_options = typeof options === 'object' && options !== null ? { ...options, include_usage: true } : INCLUDE_USAGE
        this.tap = new UsageEventStrip()
      }
    }
    this.#tier?.requests.inc()
    return fields
  }

  settle(status: number, answered: ResponseUsage | undefined): void {
    const usage = status >= 200 && status < 300 ? answered : undefined
    const hold = this.#hold
    if (hold) {
      // No answer, or an error answer: nothing was generated. A 2xx without usage (cut short) keeps its reservation.
      const used = status >= 200 && status < 300 ? (usage?.totalTokens ?? hold.granted) : 0
      this.parts.limiter!.settle(hold, used)?.catch((err: Error) => this.parts.log(`token limit settle failed (counters keep the reservation): ${err.message}`))
    }
    const tier = this.#tier
    if (usage && tier !== undefined) {
      tier.prompt.inc(usage.promptTokens)
      tier.completion.inc(usage.completionTokens)
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
