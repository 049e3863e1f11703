import type { EndpointRef } from '../picker/endpoint.js'

/** One InferencePool of a stack file, as a picker outside `maitred up` needs it. */
export interface StackPool {
  /** `namespace/name`. */
  pool: string
  /** The pool's EndpointPickerConfig (undefined: the built-in default). */
  config: Record<string, unknown> | undefined
  configSource: string
  objectives?: Record<string, number>
  endpoints: EndpointRef[]
}

/**
 * Finds `NAMESPACE/NAME` (or a NAME unique across namespaces) among the stack's pools, declared or derived, with the
 * endpoints it selects. Only external ModelServers can be endpoints here: simulated ones run only under `maitred up`.
 */
export async function loadStackPool(files: readonly string[], wanted: string): Promise<StackPool> {
  // Loaded on use: the config and controller modules are not needed by other commands.
  const [{ loadStackFiles }, { deriveStack }, { matchesLabels }, { EndpointRegistry }, { upstreamTls }] = await Promise.all([
    import('../config/load-stack.js'),
    import('../controller/derive-stack.js'),
    import('../controller/label-selector.js'),
    import('../runtime/endpoint-registry.js'),
    import('../runtime/model-server-fleet.js'),
  ])
  const stack = deriveStack(await loadStackFiles(files))
  const [ns, name] = wanted.includes('/') ? wanted.split('/', 2) : [undefined, wanted]
  const matches = stack.pools.filter((p) => p.metadata.name === name && (ns === undefined || p.metadata.namespace === ns))
  const known = stack.pools.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).join(', ') || 'none'
  if (matches.length === 0) throw new Error(`no InferencePool ${wanted} in the stack (pools: ${known})`)
  if (matches.length > 1) throw new Error(`InferencePool ${wanted} is ambiguous, name it NAMESPACE/NAME (pools: ${known})`)
  const pool = matches[0]!
  const id = `${pool.metadata.namespace}/${pool.metadata.name}`
  const deployment = stack.pickers.find((p) => p.poolName === pool.metadata.name && p.namespace === pool.metadata.namespace)!
  const servers = stack.modelServers.filter(
    (m) => m.metadata.namespace === pool.metadata.namespace && matchesLabels(m.metadata.labels, pool.spec.selector.matchLabels),
  )
  const simulated = servers.filter((m) => !m.spec.external).map((m) => m.metadata.name)
  if (simulated.length > 0)
    throw new Error(
      `InferencePool ${id} selects simulated ModelServers (${simulated.join(', ')}), which run only under \`maitred up\`: ` +
        'start the stack with `maitred up -f …`, or declare external ModelServers (spec.external.url) for this pool',
    )
  if (servers.length === 0) throw new Error(`InferencePool ${id} selects no ModelServers`)
  const registry = new EndpointRegistry()
  const endpoints = await Promise.all(servers.map(async (m) => registry.add(m, m.spec.external!.url, await upstreamTls(m))))
  return {
    pool: id,
    config: deployment.config,
    configSource: deployment.configSource,
    ...(deployment.objectives ? { objectives: deployment.objectives } : {}),
    endpoints,
  }
}
