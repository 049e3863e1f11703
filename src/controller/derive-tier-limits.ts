import type { AuthPolicy } from '../config/authpolicy-schema.js'
import type { RateLimit } from '../config/policy-common.js'
import type { RateLimitPolicy } from '../config/ratelimitpolicy-schema.js'
import type { Tier } from '../config/tier-schema.js'
import type { TokenRateLimitPolicy } from '../config/tokenratelimitpolicy-schema.js'

/** Whether an AuthPolicy takes API keys from maitred's key store (in any of its forms). */
export function usesKeyStore(policy: AuthPolicy): boolean {
  const spec = policy.spec
  return [spec.rules, spec.defaults?.rules, spec.overrides?.rules].some((rules) =>
    Object.values(rules?.authentication ?? {}).some((rule) => rule.apiKey?.keyStore !== undefined),
  )
}

/**
 * MaaS's tier limits as Kuadrant policies: for an AuthPolicy that takes keys from the key store, one RateLimitPolicy and one
 * TokenRateLimitPolicy on the same target, a limit per tier (`auth.identity.tier == "<tier>"`), counted per key
 * (`auth.identity.userid`). The MaaS predicate leaves `/v1/models` uncounted.
 */
export function deriveTierLimits(policy: AuthPolicy, tiers: readonly Tier[]): { requests?: RateLimitPolicy; tokens?: TokenRateLimitPolicy } {
  const limitsOf = (kind: 'requests' | 'tokens') => {
    const limits: Record<string, RateLimit> = {}
    for (const tier of tiers) {
      const rates = tier.spec.limits?.[kind]
      if (!rates) continue
      limits[tier.metadata.name] = {
        rates,
        counters: [{ expression: 'auth.identity.userid' }],
        when: [{ predicate: `auth.identity.tier == ${JSON.stringify(tier.metadata.name)} && !request.path.endsWith("/v1/models")` }],
      }
    }
    return Object.keys(limits).length > 0 ? limits : undefined
  }
  const metadata = (suffix: string) => ({ name: `${policy.metadata.name}-${suffix}`, namespace: policy.metadata.namespace, labels: { 'maitred.dev/derived-from': 'Tier' } })
  const requests = limitsOf('requests')
  const tokens = limitsOf('tokens')
  return {
    ...(requests
      ? { requests: { apiVersion: 'kuadrant.io/v1', kind: 'RateLimitPolicy', metadata: metadata('tier-requests'), spec: { targetRef: policy.spec.targetRef, limits: requests } } }
      : {}),
    ...(tokens
      ? { tokens: { apiVersion: 'kuadrant.io/v1alpha1', kind: 'TokenRateLimitPolicy', metadata: metadata('tier-tokens'), spec: { targetRef: policy.spec.targetRef, limits: tokens } } }
      : {}),
  }
}
