import { routeStatus, type RouteParentStatus } from '../controller/route-status.js'
import type { PickerDeployment } from '../controller/stack.js'
import type { EndpointMetrics } from '../picker/endpoint.js'
import type { StackRuntime } from './stack-runtime.js'

/** What `maitred get …` prints, read from the running stack through the admin API. */
export interface StackStatus {
  gateways: {
    name: string
    namespace: string
    addresses: string[]
    listeners: { name: string; protocol: string; port: number; url: string; attachedRoutes: number }[]
  }[]
  routes: {
    name: string
    namespace: string
    derivedFrom?: string
    parents: RouteParentStatus[]
    rules: { name?: string; paths: { type: string; value: string }[]; backends: string[] }[]
  }[]
  pools: {
    name: string
    namespace: string
    selector: Record<string, string>
    picker: string
    /** `host:port` of the pool's picker when it runs elsewhere (ext_proc); its metrics below are the gateway's own scrape. */
    remotePicker?: string
    pickerConfig: string
    /** Plugin types of the picker's EndpointPickerConfig (the built-in default's when it has none; empty for a remote picker). */
    pickerPlugins: string[]
    failureMode: string
    endpoints: string[]
    derivedFrom?: string
  }[]
  endpoints: {
    id: string
    address: string
    url: string
    kind: 'simulated' | 'external'
    pid?: number
    labels: Record<string, string>
    pools: string[]
    /** The remote pickers of its pools, when they are remote: they pick with their own scrape, not this one. */
    remotePickers?: string[]
    healthy: boolean
    lastError?: string
    metrics?: EndpointMetrics
  }[]
}

export function stackStatus(rt: StackRuntime): StackStatus {
  const { stack } = rt
  const routeStatuses = stack.routes.map((r) => ({ route: r, parents: routeStatus(r, stack) }))
  const pickerStates = new Map(
    [...rt.pickers.values()].flatMap((p) => p.picker.endpointStates().map((s) => [s.endpoint.id, s] as const)),
  )
  return {
    gateways: stack.gateways.map((g) => {
      const listeners = rt.listeners.filter((l) => l.gateway === g)
      return {
        name: g.metadata.name,
        namespace: g.metadata.namespace,
        addresses: listeners.map((l) => l.url),
        listeners: listeners.map((l) => ({
          name: l.listener.name,
          protocol: l.listener.protocol,
          port: l.port,
          url: l.url,
          attachedRoutes: routeStatuses.filter(({ parents }) =>
            parents.some((p) => p.gateway.name === g.metadata.name && p.gateway.namespace === g.metadata.namespace && p.listeners.includes(l.listener.name)),
          ).length,
        })),
      }
    }),
    routes: routeStatuses.map(({ route, parents }) => ({
      name: route.metadata.name,
      namespace: route.metadata.namespace,
      derivedFrom: stack.ownerOf[`HTTPRoute/${route.metadata.namespace}/${route.metadata.name}`],
      parents,
      rules: route.spec.rules.map((rule) => ({
        ...(rule.name ? { name: rule.name } : {}),
        paths: rule.matches.map((m) => ({ type: m.path?.type ?? 'PathPrefix', value: m.path?.value ?? '/' })),
        backends: (rule.backendRefs ?? []).map((b) => `${b.kind}/${b.name}`),
      })),
    })),
    pools: stack.pools.map((pool) => {
      const running = rt.pickers.get(`${pool.metadata.namespace}/${pool.metadata.name}`)
      return {
        name: pool.metadata.name,
        namespace: pool.metadata.namespace,
        selector: pool.spec.selector.matchLabels,
        picker: running?.deployment.name ?? '-',
        ...(running?.deployment.remote ? { remotePicker: running.deployment.remote.address } : {}),
        pickerConfig: running?.deployment.configSource ?? '-',
        pickerPlugins: running ? pickerPluginTypes(running.deployment) : [],
        failureMode: pool.spec.endpointPickerRef?.failureMode ?? 'FailClose',
        endpoints: rt.endpoints.select(pool.metadata.namespace, pool.spec.selector.matchLabels).map((e) => e.address),
        derivedFrom: stack.ownerOf[`InferencePool/${pool.metadata.namespace}/${pool.metadata.name}`],
      }
    }),
    endpoints: rt.endpoints.all().map((e) => {
      const state = pickerStates.get(e.id)
      const selecting = stack.pools.filter((p) => rt.endpoints.select(p.metadata.namespace, p.spec.selector.matchLabels).some((x) => x.id === e.id))
      const remotePickers = [...new Set(selecting.flatMap((p) => rt.pickers.get(`${p.metadata.namespace}/${p.metadata.name}`)?.deployment.remote?.address ?? []))]
      const sim = rt.simulators.get(e.id)
      return {
        id: e.id,
        address: e.address,
        url: e.url,
        kind: rt.modelServer(e.id)?.spec.external ? ('external' as const) : ('simulated' as const),
        ...(sim ? { pid: sim.pid } : {}),
        labels: { ...e.labels },
        pools: selecting.map((p) => p.metadata.name),
        ...(remotePickers.length > 0 ? { remotePickers } : {}),
        healthy: state?.healthy ?? true,
        ...(state?.lastError ? { lastError: state.lastError } : {}),
        ...(state?.metrics ? { metrics: state.metrics } : {}),
      }
    }),
  }
}

/** The built-in EndpointPickerConfig's plugins (src/picker/default-config.ts), for a picker declared without one. */
const DEFAULT_PLUGIN_TYPES = ['queue-scorer', 'kv-cache-utilization-scorer', 'prefix-cache-scorer', 'max-score-picker']

export function pickerPluginTypes(deployment: PickerDeployment): string[] {
  if (deployment.remote) return []
  const plugins = deployment.config?.plugins
  if (!Array.isArray(plugins)) return DEFAULT_PLUGIN_TYPES
  return plugins.map((p) => String((p as { type?: unknown }).type))
}
