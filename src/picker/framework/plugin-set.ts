import type { EndpointRef } from '../endpoint.js'
import { builtinRegistry } from '../plugins/builtin-registry.js'
import type { LoadedConfig } from './config-loader.js'
import type { PluginContext, PluginRegistry } from './registry.js'
import {
  isDataProducer,
  isFilter,
  isPicker,
  isPreRequest,
  isProfileHandler,
  isSaturationDetector,
  isScorer,
  type DataProducer,
  type Plugin,
  type PreRequest,
  type ProfileHandler,
  type SaturationDetector,
  type SchedulerProfile,
} from './types.js'

/** The live plugins of one picker, built from a LoadedConfig and sorted into their slots. */
export interface PluginSet {
  readonly plugins: ReadonlyMap<string, Plugin>
  readonly profiles: ReadonlyMap<string, SchedulerProfile>
  readonly profileHandler: ProfileHandler
  readonly saturationDetector: SaturationDetector
  readonly producers: readonly DataProducer[]
  readonly preRequests: readonly PreRequest[]
}

/** Plugins that keep per-endpoint state and must forget endpoints that left the pool. */
export interface EndpointAware {
  endpointRemoved(endpointId: string): void
}
export const isEndpointAware = (p: object): p is EndpointAware => typeof (p as Partial<EndpointAware>).endpointRemoved === 'function'

/** Plugins backed by a data-layer source of their own per endpoint (KV events subscriptions): told of the pool, closed with it. */
export interface PoolWatcher {
  endpointsChanged(endpoints: readonly EndpointRef[]): void
  close(): void
}
export const isPoolWatcher = (p: object): p is PoolWatcher => typeof (p as Partial<PoolWatcher>).endpointsChanged === 'function'

export function instantiatePlugins(
  config: LoadedConfig,
  services: { now: () => number; random: () => number },
  registry: PluginRegistry = builtinRegistry,
): PluginSet {
  const plugins = new Map<string, Plugin>()
  const ctx: PluginContext = {
    ...services,
    plugin: (name) => plugins.get(name),
    plugins: () => [...plugins.values()],
  }
  for (const p of config.plugins) {
    const def = registry.get(p.type)
    if (!def) throw new Error(`plugin type ${p.type} is not registered`)
    plugins.set(p.name, def.create(p.name, p.parameters, ctx))
  }
  const get = <T extends Plugin>(name: string, guard: (p: Plugin) => p is T, slot: string): T => {
    const plugin = plugins.get(name)
    if (!plugin || !guard(plugin)) throw new Error(`plugin ${name} is not a ${slot}`)
    return plugin
  }
  const profiles = new Map<string, SchedulerProfile>(
    config.schedulingProfiles.map((prof) => [
      prof.name,
      {
        name: prof.name,
        filters: prof.filters.map((n) => get(n, isFilter, 'filter')),
        scorers: prof.scorers.map((s) => ({ scorer: get(s.pluginRef, isScorer, 'scorer'), weight: s.weight })),
        picker: get(prof.picker, isPicker, 'picker'),
      },
    ]),
  )
  const all = [...plugins.values()]
  return {
    plugins,
    profiles,
    profileHandler: get(config.profileHandler, isProfileHandler, 'profile handler'),
    saturationDetector: get(config.saturationDetector, isSaturationDetector, 'saturation detector'),
    producers: all.filter(isDataProducer),
    preRequests: all.filter(isPreRequest),
  }
}
