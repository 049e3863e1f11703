import type { GatewayListener } from '../config/gateway-schema.js'
import type { BackendRef, HTTPRoute } from '../config/httproute-schema.js'
import { hostnamesIntersect } from './hostname-match.js'
import { matchesLabels } from './label-selector.js'
import type { Stack } from './stack.js'

export interface Condition {
  type: 'Accepted' | 'ResolvedRefs'
  status: 'True' | 'False'
  reason: string
  message: string
}

/** One `status.parents[]` entry of an HTTPRoute, plus the listeners it attached to. */
export interface RouteParentStatus {
  gateway: { name: string; namespace: string }
  sectionName?: string
  listeners: string[]
  conditions: [Condition, Condition]
}

export const INFERENCE_POOL_GROUPS = ['inference.networking.k8s.io', 'inference.networking.x-k8s.io']

/** Computes Gateway API route status (Accepted, ResolvedRefs) for every parentRef, as a Gateway controller would. */
export function routeStatus(route: HTTPRoute, stack: Stack): RouteParentStatus[] {
  const resolved = resolvedRefsCondition(route, stack)
  return route.spec.parentRefs.map((ref) => {
    const namespace = ref.namespace ?? route.metadata.namespace
    const gateway = stack.gateways.find((g) => g.metadata.name === ref.name && g.metadata.namespace === namespace)
    const base = { gateway: { name: ref.name, namespace }, ...(ref.sectionName ? { sectionName: ref.sectionName } : {}) }
    if (ref.kind !== 'Gateway' || ref.group !== 'gateway.networking.k8s.io' || !gateway)
      return { ...base, listeners: [], conditions: [cond('Accepted', false, 'NoMatchingParent', `Gateway ${namespace}/${ref.name} not found`), resolved] }
    const candidates = gateway.spec.listeners.filter(
      (l) => (ref.sectionName === undefined || l.name === ref.sectionName) && (ref.port === undefined || l.port === ref.port),
    )
    if (candidates.length === 0)
      return { ...base, listeners: [], conditions: [cond('Accepted', false, 'NoMatchingParent', 'no listener matches sectionName/port'), resolved] }
    const allowed = candidates.filter((l) => namespaceAllowed(l, gateway.metadata.namespace, route.metadata.namespace, stack))
    if (allowed.length === 0)
      return { ...base, listeners: [], conditions: [cond('Accepted', false, 'NotAllowedByListeners', `listeners do not allow routes from namespace ${route.metadata.namespace}`), resolved] }
    const attached = allowed.filter((l) => (route.spec.hostnames ?? [undefined]).some((h) => hostnamesIntersect(l.hostname, h)))
    if (attached.length === 0)
      return { ...base, listeners: [], conditions: [cond('Accepted', false, 'NoMatchingListenerHostname', 'no listener hostname intersects the route hostnames'), resolved] }
    return { ...base, listeners: attached.map((l) => l.name), conditions: [cond('Accepted', true, 'Accepted', 'Route is accepted'), resolved] }
  })
}

/** allowedRoutes.namespaces: All, Same (the default), or Selector over the labels of declared Namespace objects. */
function namespaceAllowed(listener: GatewayListener, gatewayNamespace: string, routeNamespace: string, stack: Stack): boolean {
  const allowed = listener.allowedRoutes?.namespaces
  const from = allowed?.from ?? 'Same'
  if (from === 'All') return true
  if (from === 'Same') return gatewayNamespace === routeNamespace
  const labels = stack.namespaces.find((n) => n.metadata.name === routeNamespace)?.metadata.labels
  return matchesLabels(labels, allowed?.selector?.matchLabels ?? {})
}

/** Why a backendRef does not resolve, or undefined when it does. */
function unresolvedReason(ref: BackendRef, routeNamespace: string, stack: Stack): { reason: string; message: string } | undefined {
  const namespace = ref.namespace ?? routeNamespace
  const id = `${ref.kind}/${namespace}/${ref.name}`
  if (namespace !== routeNamespace) return { reason: 'RefNotPermitted', message: `${id} is in another namespace (no ReferenceGrant support)` }
  if (ref.kind === 'Service' && (ref.group === '' || ref.group === 'core'))
    return stack.services.some((s) => s.metadata.name === ref.name && s.metadata.namespace === namespace)
      ? undefined
      : { reason: 'BackendNotFound', message: `${id} not found` }
  if (ref.kind === 'InferencePool' && INFERENCE_POOL_GROUPS.includes(ref.group))
    return stack.pools.some((p) => p.metadata.name === ref.name && p.metadata.namespace === namespace)
      ? undefined
      : { reason: 'BackendNotFound', message: `${id} not found` }
  return { reason: 'InvalidKind', message: `unsupported backend kind ${ref.group ? `${ref.group}/` : ''}${ref.kind}` }
}

function resolvedRefsCondition(route: HTTPRoute, stack: Stack): Condition {
  for (const rule of route.spec.rules)
    for (const ref of rule.backendRefs ?? []) {
      const problem = unresolvedReason(ref, route.metadata.namespace, stack)
      if (problem) return cond('ResolvedRefs', false, problem.reason, problem.message)
    }
  return cond('ResolvedRefs', true, 'ResolvedRefs', 'all references resolved')
}

function cond<T extends Condition['type']>(type: T, ok: boolean, reason: string, message: string): Condition & { type: T } {
  return { type, status: ok ? 'True' : 'False', reason, message }
}
