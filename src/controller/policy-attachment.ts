import type { PolicyTargetRef } from '../config/policy-common.js'

/** Where a request is in the Gateway API tree: its gateway, listener, route and route rule. */
export interface AttachmentPoint {
  gateway: { namespace: string; name: string }
  listener: string
  route: { namespace: string; name: string }
  ruleName: string | undefined
}

interface AttachablePolicy {
  metadata: { namespace: string }
  spec: { targetRef: PolicyTargetRef; defaults?: unknown; overrides?: unknown }
}

/** How broad a target is: gateway 0, listener 1, route 2, route rule 3; undefined when the policy is not on this path. */
function level(p: AttachablePolicy, at: AttachmentPoint): number | undefined {
  const t = p.spec.targetRef
  const ns = p.metadata.namespace
  if (t.kind === 'Gateway' && t.name === at.gateway.name && ns === at.gateway.namespace) {
    if (t.sectionName === undefined) return 0
    return t.sectionName === at.listener ? 1 : undefined
  }
  if (t.kind === 'HTTPRoute' && t.name === at.route.name && ns === at.route.namespace) {
    if (t.sectionName === undefined) return 2
    return t.sectionName === at.ruleName ? 3 : undefined
  }
  return undefined
}

/**
 * GEP-713 with Kuadrant's default (atomic) merge: an `overrides` policy wins from the broadest level that has one (a
 * route cannot weaken its gateway's mandate); otherwise the most specific `defaults` (or implicit) policy wins. At one
 * level the first declared wins.
 */
export function effectivePolicy<P extends AttachablePolicy>(policies: readonly P[], at: AttachmentPoint): { policy: P; form: 'overrides' | 'defaults' } | undefined {
  let override: { policy: P; level: number } | undefined
  let fallback: { policy: P; level: number } | undefined
  for (const policy of policies) {
    const l = level(policy, at)
    if (l === undefined) continue
    if (policy.spec.overrides !== undefined) {
      if (!override || l < override.level) override = { policy, level: l }
    } else if (!fallback || l > fallback.level) fallback = { policy, level: l }
  }
  if (override) return { policy: override.policy, form: 'overrides' }
  return fallback && { policy: fallback.policy, form: 'defaults' }
}
