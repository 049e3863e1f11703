import { CompiledAuthPolicy } from '../auth/auth-policy-engine.js'
import type { Gateway, GatewayListener } from '../config/gateway-schema.js'
import { resourceId } from '../config/resource.js'
import { effectivePolicy, type AttachmentPoint } from '../controller/policy-attachment.js'
import type { Stack } from '../controller/stack.js'
import type { Admission, AdmissionResolver } from '../gateway/admission.js'
import type { ApiKeyStore } from '../keys/api-key-store.js'
import { CompiledLimits, type LimitRate } from '../ratelimit/compiled-limits.js'
import type { LimitStore } from '../ratelimit/limit-store.js'
import { RateLimiter, type LimitObserver, type RateLimitBehaviour } from '../ratelimit/rate-limiter.js'
import type { CounterSeries } from '../observability/bound-metrics.js'
import type { AdmissionMetrics } from './admission-metrics.js'
import { PolicyAdmission } from './policy-admission.js'

export interface AdmissionDependencies {
  limitStore: LimitStore
  rateLimits: RateLimitBehaviour
  keyStore: () => ApiKeyStore | undefined
  metrics: AdmissionMetrics
  log: (line: string) => void
}

/**
 * Compiles a configuration's policies once (shared by every listener and rule they apply to: one JWKS cache per policy)
 * and resolves, per listener, the admission of each route rule: the effective AuthPolicy, RateLimitPolicy and
 * TokenRateLimitPolicy (GEP-713). Without policies there is no resolver, and the request path has nothing to do.
 */
export class AdmissionTable {
  readonly #auth = new Map<string, CompiledAuthPolicy>()
  readonly #limits = new Map<string, CompiledLimits>()

  constructor(
    private readonly stack: Stack,
    private readonly deps: AdmissionDependencies,
  ) {}

  forListener(gateway: Gateway, listener: GatewayListener): AdmissionResolver | undefined {
    const s = this.stack
    if (s.authPolicies.length + s.rateLimitPolicies.length + s.tokenRateLimitPolicies.length === 0) return undefined
    // Per route, its rules' admissions by index (null: built, none applies): two lookups and no key string per request.
    const byRoute = new Map<string, (Admission | null | undefined)[]>()
    return (routeKey, ruleIndex) => {
      let rules = byRoute.get(routeKey)
      if (!rules) byRoute.set(routeKey, (rules = []))
      let admission = rules[ruleIndex]
      if (admission === undefined) rules[ruleIndex] = admission = this.#build(gateway, listener, routeKey, ruleIndex) ?? null
      return admission ?? undefined
    }
  }

  #build(gateway: Gateway, listener: GatewayListener, routeKey: string, ruleIndex: number): Admission | undefined {
    const route = this.stack.routes.find((r) => `${r.metadata.namespace}/${r.metadata.name}` === routeKey)
    if (!route) return undefined
    const at: AttachmentPoint = {
      gateway: { namespace: gateway.metadata.namespace, name: gateway.metadata.name },
      listener: listener.name,
      route: { namespace: route.metadata.namespace, name: route.metadata.name },
      ruleName: route.spec.rules[ruleIndex]?.name,
    }
    const auth = effectivePolicy(this.stack.authPolicies, at)
    const requests = effectivePolicy(this.stack.rateLimitPolicies, at)
    const tokens = effectivePolicy(this.stack.tokenRateLimitPolicies, at)
    if (!auth && !requests && !tokens) return undefined
    const compiledAuth = auth && this.#compiledAuth(auth.policy, auth.form)
    const limits = (found: typeof requests | typeof tokens, isTokens: boolean) => {
      if (!found) return undefined
      const id = `${resourceId(found.policy)}#${found.form}`
      let compiled = this.#limits.get(id)
      if (!compiled) {
        const spec = found.policy.spec
        const block = spec.overrides ?? spec.defaults ?? { limits: spec.limits ?? {}, when: spec.when }
        this.#limits.set(id, (compiled = new CompiledLimits(resourceId(found.policy), block, isTokens)))
      }
      return compiled
    }
    const requestLimits = limits(requests, false)
    const tokenLimits = limits(tokens, true)
    const { metrics } = this.deps
    // Every admitted request counts each of its limits: the series is found once per compiled rate, not through three
    // label lookups per request.
    const admitted = new WeakMap<LimitRate, CounterSeries>()
    const observe: LimitObserver = (entry, result) => {
      if (result !== 'admitted') return metrics.rateLimit.labels(entry.policy, entry.name, result).inc()
      let series = admitted.get(entry.rate)
      if (!series) admitted.set(entry.rate, (series = metrics.rateLimit.labels(entry.policy, entry.name, 'admitted')))
      series.inc()
    }
    const limiter = requestLimits || tokenLimits ? new RateLimiter(this.deps.limitStore, requestLimits, tokenLimits, this.deps.rateLimits, observe) : undefined
    return new PolicyAdmission({ gateway: gateway.metadata.name, auth: compiledAuth, limiter, metrics, keyStore: this.deps.keyStore, log: this.deps.log })
  }

  #compiledAuth(policy: Stack['authPolicies'][number], form: 'overrides' | 'defaults'): CompiledAuthPolicy {
    const id = `${resourceId(policy)}#${form}`
    let compiled = this.#auth.get(id)
    if (!compiled) {
      const spec = policy.spec
      const block = spec.overrides ?? spec.defaults ?? { rules: spec.rules, when: spec.when }
      const tiers = new Map(this.stack.tiers.map((t) => [t.metadata.name, t]))
      compiled = new CompiledAuthPolicy(resourceId(policy), block, policy.metadata.namespace, { keyStore: this.deps.keyStore, secrets: this.stack.secrets, tiers })
      this.#auth.set(id, compiled)
    }
    return compiled
  }
}
