import type { HTTPRoute } from '../config/httproute-schema.js'
import { INFERENCE_POOL_GROUPS } from '../controller/route-status.js'
import type { Stack } from '../controller/stack.js'
import type { BackendResolver, ResolvedBackend } from '../gateway/backend.js'
import type { RoundRobin } from '../gateway/round-robin.js'
import type { EndpointPicker } from '../picker/endpoint-picker.js'
import type { EndpointRegistry } from './endpoint-registry.js'

const key = (namespace: string, name: string) => `${namespace}/${name}`

/** Resolves every route rule's backendRefs once per configuration; the request path then only indexes arrays. */
export function buildBackendResolver(
  stack: Stack,
  pickers: ReadonlyMap<string, EndpointPicker>,
  services: ReadonlyMap<string, RoundRobin>,
  endpoints: EndpointRegistry,
): BackendResolver {
  const table = new Map<string, (ResolvedBackend | undefined)[][]>()
  for (const route of stack.routes) table.set(key(route.metadata.namespace, route.metadata.name), resolveRoute(route))
  return (routeKey, ruleIndex, backendIndex) => table.get(routeKey)?.[ruleIndex]?.[backendIndex]

  function resolveRoute(route: HTTPRoute): (ResolvedBackend | undefined)[][] {
    const ns = route.metadata.namespace
    return route.spec.rules.map((rule) =>
      (rule.backendRefs ?? []).map((ref): ResolvedBackend | undefined => {
        if ((ref.namespace ?? ns) !== ns) return undefined
        const cluster = `outbound|${ref.port ?? ''}||${ref.name}.${ns}.svc.cluster.local`
        if (ref.kind === 'InferencePool' && INFERENCE_POOL_GROUPS.includes(ref.group)) {
          const picker = pickers.get(key(ns, ref.name))
          const pool = stack.pools.find((p) => p.metadata.namespace === ns && p.metadata.name === ref.name)
          if (!picker || !pool) return undefined
          return {
            kind: 'InferencePool',
            id: `InferencePool/${ref.name}`,
            cluster,
            picker,
            failureMode: pool.spec.endpointPickerRef?.failureMode ?? 'FailClose',
            endpoints: () => endpoints.select(ns, pool.spec.selector.matchLabels),
          }
        }
        const rr = ref.kind === 'Service' && (ref.group === '' || ref.group === 'core') ? services.get(key(ns, ref.name)) : undefined
        return rr && { kind: 'Service', id: `Service/${ref.name}`, cluster, next: () => rr.next() }
      }),
    )
  }
}
