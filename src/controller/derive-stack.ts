import type { EndpointPickerConfigResource } from '../config/endpoint-picker-config-schema.js'
import type { InferencePool } from '../config/inferencepool-schema.js'
import { ofKind, resourceId, type Resource } from '../config/resource.js'
import { deriveLLMInferenceService } from './derive-llmisvc.js'
import { deriveTierLimits, usesKeyStore } from './derive-tier-limits.js'
import { matchesLabels } from './label-selector.js'
import { remotePickerRef } from './remote-picker-ref.js'
import { workloadSelector } from './llmisvc-names.js'
import type { PickerDeployment, Stack } from './stack.js'

/**
 * The controller: a pure function from declared resources to everything the runtime starts. Declared objects win over
 * derived ones of the same kind, namespace and name (as when a user brings their own route or pool).
 */
export function deriveStack(declared: readonly Resource[]): Stack {
  const stack: Stack = {
    gateways: ofKind(declared, 'Gateway'),
    routes: ofKind(declared, 'HTTPRoute'),
    pools: ofKind(declared, 'InferencePool'),
    pickers: [],
    services: ofKind(declared, 'Service'),
    modelServers: ofKind(declared, 'ModelServer'),
    llmInferenceServices: ofKind(declared, 'LLMInferenceService'),
    objectives: ofKind(declared, 'InferenceObjective'),
    secrets: ofKind(declared, 'Secret'),
    namespaces: ofKind(declared, 'Namespace'),
    authPolicies: ofKind(declared, 'AuthPolicy'),
    rateLimitPolicies: ofKind(declared, 'RateLimitPolicy'),
    tokenRateLimitPolicies: ofKind(declared, 'TokenRateLimitPolicy'),
    tiers: ofKind(declared, 'Tier'),
    ownerOf: {},
  }
  const taken = new Set(declared.map(resourceId))
  const adopt = <T extends Resource>(list: T[], child: T | undefined, owner: string) => {
    if (!child || taken.has(resourceId(child))) return
    taken.add(resourceId(child))
    list.push(child)
    stack.ownerOf[resourceId(child)] = owner
  }

  for (const isvc of stack.llmInferenceServices) {
    const owner = resourceId(isvc)
    const selector = workloadSelector(isvc.metadata.name)
    const hasOwnServers = stack.modelServers.some(
      (m) => m.metadata.namespace === isvc.metadata.namespace && matchesLabels(m.metadata.labels, selector),
    )
    const children = deriveLLMInferenceService(isvc, hasOwnServers)
    for (const ms of children.modelServers) adopt(stack.modelServers, ms, owner)
    adopt(stack.services, children.service, owner)
    adopt(stack.pools, children.pool, owner)
    adopt(stack.routes, children.route, owner)
    if (children.picker) {
      stack.pickers.push(children.picker)
      stack.ownerOf[`EndpointPicker/${children.picker.namespace}/${children.picker.name}`] = owner
    }
  }

  for (const policy of stack.authPolicies.filter(usesKeyStore)) {
    const derived = deriveTierLimits(policy, stack.tiers)
    adopt(stack.rateLimitPolicies, derived.requests, resourceId(policy))
    adopt(stack.tokenRateLimitPolicies, derived.tokens, resourceId(policy))
  }

  const configs = ofKind(declared, 'EndpointPickerConfig')
  for (const pool of stack.pools) {
    if (stack.pickers.some((p) => p.poolName === pool.metadata.name && p.namespace === pool.metadata.namespace)) continue
    stack.pickers.push(pickerForDeclaredPool(pool, configs))
  }
  for (const picker of stack.pickers) {
    const pool = stack.pools.find((p) => p.metadata.name === picker.poolName && p.metadata.namespace === picker.namespace)
    const objectives = stack.objectives.filter((o) => o.metadata.namespace === picker.namespace && o.spec.poolRef.name === picker.poolName)
    if (objectives.length > 0) picker.objectives = Object.fromEntries(objectives.map((o) => [o.metadata.name, o.spec.priority]))
    const remote = pool && remotePickerRef(pool)
    if (remote) picker.remote = remote
  }
  return stack
}

/**
 * A declared pool's picker takes the EndpointPickerConfig named by its endpointPickerRef; else the stack's one config
 * without metadata (llm-d's and GIE's own files, which an EPP reads as its only config: `--config-file`); else the
 * built-in default. Two configs without metadata are refused when the stack loads.
 */
function pickerForDeclaredPool(pool: InferencePool, configs: EndpointPickerConfigResource[]): PickerDeployment {
  const { name, namespace } = pool.metadata
  const refName = pool.spec.endpointPickerRef?.name ?? `${name}-epp`
  const named = configs.find((c) => c.metadata?.name === refName && c.metadata.namespace === namespace)
  const unnamed = configs.find((c) => !c.metadata)
  const config = named ?? unnamed
  return {
    name: refName,
    namespace,
    serviceName: refName,
    poolName: name,
    config: config?.config,
    configSource: named ? `EndpointPickerConfig/${namespace}/${refName}` : unnamed ? 'the EndpointPickerConfig without metadata' : `default (no EndpointPickerConfig named ${refName})`,
  }
}
