import { parse as parseYaml } from 'yaml'
import type { HTTPRoute } from '../config/httproute-schema.js'
import type { InferencePool } from '../config/inferencepool-schema.js'
import type { LLMInferenceService } from '../config/llminferenceservice-schema.js'
import type { ModelServer } from '../config/model-server-schema.js'
import type { Service } from '../config/service-schema.js'
import { simOptionsSchema } from '../sim/sim-options.js'
import { PD_PICKER_CONFIG } from './default-picker-configs.js'
import { childNames, DEFAULT_GATEWAY, WORKLOAD_PORT, workloadSelector } from './llmisvc-names.js'
import type { PickerDeployment } from './stack.js'

export interface LLMISvcChildren {
  modelServers: ModelServer[]
  service: Service
  pool?: InferencePool
  picker?: PickerDeployment
  route?: HTTPRoute
}

/** The model name clients send in `"model"`: `spec.model.name`, defaulting to the resource name (KServe). */
export function servedModelName(isvc: LLMInferenceService): string {
  return isvc.spec.model.name ?? isvc.metadata.name
}

/**
 * Derives the objects KServe creates for one LLMInferenceService. `hasOwnServers` is true when the user declared
 * ModelServers carrying the workload labels (e.g. external vLLM pods), in which case no simulated ones are derived.
 */
export function deriveLLMInferenceService(isvc: LLMInferenceService, hasOwnServers: boolean): LLMISvcChildren {
  const { name, namespace } = isvc.metadata
  const names = childNames(name)
  const selector = workloadSelector(name)
  const hasPrefill = isvc.spec.prefill !== undefined
  const scheduler = isvc.spec.router?.scheduler
  const managedPool = scheduler !== undefined && scheduler.pool?.ref === undefined
  const poolName = scheduler?.pool?.ref?.name ?? names.pool

  const picker: PickerDeployment | undefined = managedPool ? pickerFor(isvc, names, hasPrefill) : undefined
  // KServe's precise-prefix preset starts vLLM with --kv-events-config: the simulated replicas publish when the picker listens.
  const kvEvents = usesKvEvents(picker?.config)
  const modelServers = hasOwnServers
    ? []
    : [
        ...simulatedServers(isvc, names.workload, isvc.spec.replicas ?? 1, hasPrefill ? 'decode' : 'both', kvEvents),
        ...(hasPrefill ? simulatedServers(isvc, names.prefillWorkload, isvc.spec.prefill?.replicas ?? 1, 'prefill', kvEvents) : []),
      ]

  const service: Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: names.workloadService, namespace, labels: { 'app.kubernetes.io/name': name } },
    spec: { type: 'ClusterIP', selector, ports: [{ name: 'http', port: WORKLOAD_PORT, targetPort: WORKLOAD_PORT, protocol: 'TCP' }] },
  }

  const pool: InferencePool | undefined = managedPool
    ? {
        apiVersion: 'inference.networking.k8s.io/v1',
        kind: 'InferencePool',
        metadata: { name: names.pool, namespace },
        spec: {
          selector: { matchLabels: selector },
          targetPorts: [{ number: WORKLOAD_PORT }],
          appProtocol: 'http',
          endpointPickerRef: { group: '', kind: 'Service', name: names.eppService, port: { number: 9002 }, failureMode: 'FailOpen' },
        },
      }
    : undefined

  const route = isvc.spec.router?.route !== undefined && !isvc.spec.router.route.http?.refs
    ? deriveRoute(isvc, scheduler !== undefined ? poolName : undefined)
    : undefined
  return { modelServers, service, pool, picker, route }
}

const KV_EVENT_PLUGINS = new Set(['precise-prefix-cache-producer', 'precise-prefix-cache-scorer'])

function usesKvEvents(config: Record<string, unknown> | undefined): boolean {
  const plugins = config?.plugins
  return Array.isArray(plugins) && plugins.some((p: { type?: unknown }) => KV_EVENT_PLUGINS.has(String(p?.type)))
}

function simulatedServers(isvc: LLMInferenceService, workload: string, replicas: number, role: 'both' | 'decode' | 'prefill', kvEvents: boolean): ModelServer[] {
  const { name, namespace } = isvc.metadata
  const component = role === 'prefill' ? 'llminferenceservice-workload-prefill' : 'llminferenceservice-workload'
  return Array.from({ length: replicas }, (_, i) => ({
    apiVersion: 'maitred.dev/v1alpha1' as const,
    kind: 'ModelServer' as const,
    metadata: {
      name: `${workload}-${i}`,
      namespace,
      labels: {
        ...isvc.spec.labels,
        ...workloadSelector(name),
        'app.kubernetes.io/component': component,
        'llm-d.ai/role': role,
      },
    },
    spec: { simulator: simOptionsSchema.parse({ model: servedModelName(isvc), role, ...(kvEvents ? { kvEvents: {} } : {}) }) },
  }))
}

function pickerFor(isvc: LLMInferenceService, names: ReturnType<typeof childNames>, hasPrefill: boolean): PickerDeployment {
  const inline = isvc.spec.router?.scheduler?.config?.inline
  const base = { name: names.scheduler, namespace: isvc.metadata.namespace, serviceName: names.eppService, poolName: names.pool }
  if (inline !== undefined) {
    const config = (typeof inline === 'string' ? parseYaml(inline) : inline) as Record<string, unknown>
    return { ...base, config, configSource: 'spec.router.scheduler.config.inline' }
  }
  if (hasPrefill) return { ...base, config: PD_PICKER_CONFIG, configSource: 'default (prefill/decode)' }
  return { ...base, config: undefined, configSource: 'default' }
}

/** The managed HTTPRoute: the seed's three rules, prefix rewritten so the model server sees `/v1/...`. */
function deriveRoute(isvc: LLMInferenceService, poolName: string | undefined): HTTPRoute {
  const { name, namespace } = isvc.metadata
  const names = childNames(name)
  const prefix = `/${namespace}/${name}`
  const refs = isvc.spec.router?.gateway?.refs ?? [DEFAULT_GATEWAY]
  const timeouts = { request: '0s', backendRequest: '0s' }
  const poolRule = (api: string) => ({
    name: `v1-${api.replace('/', '-')}-path`,
    matches: [{ path: { type: 'PathPrefix' as const, value: `${prefix}/v1/${api}` } }],
    filters: [{ type: 'URLRewrite' as const, urlRewrite: { path: { type: 'ReplacePrefixMatch' as const, replacePrefixMatch: `/v1/${api}` } } }],
    backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: poolName!, port: WORKLOAD_PORT, weight: 1 }],
    timeouts,
  })
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: names.route, namespace, labels: { 'app.kubernetes.io/component': 'llminferenceservice-router' } },
    spec: {
      parentRefs: refs.map((r) => ({
        group: 'gateway.networking.k8s.io',
        kind: 'Gateway',
        name: r.name,
        namespace: r.namespace ?? namespace,
        ...('sectionName' in r && r.sectionName ? { sectionName: r.sectionName } : {}),
      })),
      rules: [
        ...(poolName ? [poolRule('chat/completions'), poolRule('completions')] : []),
        {
          name: 'v1-catch-all-path',
          matches: [{ path: { type: 'PathPrefix', value: prefix } }],
          filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }],
          backendRefs: [{ group: '', kind: 'Service', name: names.workloadService, port: WORKLOAD_PORT, weight: 1 }],
          timeouts,
        },
      ],
    },
  }
}
