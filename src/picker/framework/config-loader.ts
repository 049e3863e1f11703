import type { z } from 'zod'
import { builtinRegistry } from '../plugins/builtin-registry.js'
import { endpointPickerConfigSchema } from './config-schema.js'
import type { PluginDefinition, PluginKind, PluginRegistry } from './registry.js'

export interface ConfigError {
  /** Field path in the document, e.g. `plugins[2].parameters.threshold`. */
  readonly path: string
  readonly message: string
}

export interface LoadedPlugin {
  readonly name: string
  /** Canonical type (an alias in the document is resolved). */
  readonly type: string
  /** Parameters validated and defaulted by the plugin's schema. */
  readonly parameters: unknown
  readonly kinds: readonly PluginKind[]
  /** True when the loader added it (a default), not the document. */
  readonly injected: boolean
}

export interface LoadedProfile {
  readonly name: string
  readonly filters: readonly string[]
  readonly scorers: readonly { readonly pluginRef: string; readonly weight: number }[]
  readonly picker: string
}

/** A validated EndpointPickerConfig with GIE/llm-d defaults filled in; plain data, instantiated per picker. */
export interface LoadedConfig {
  readonly apiVersion: string
  readonly plugins: readonly LoadedPlugin[]
  readonly schedulingProfiles: readonly LoadedProfile[]
  readonly profileHandler: string
  readonly saturationDetector: string
  readonly featureGates: Readonly<Record<string, boolean>>
  /** Things accepted but not acted on (deprecations, unimplemented gates). */
  readonly warnings: readonly string[]
}

/** `DefaultScorerWeight` of GIE / llm-d. */
const DEFAULT_SCORER_WEIGHT = 1

/**
 * Validates an EndpointPickerConfig object and fills in the defaults of GIE/llm-d's loader
 * (`pkg/epp/config/loader/defaults.go`). Never throws: every problem is returned with its field path.
 */
export function loadEndpointPickerConfig(
  doc: unknown,
  registry: PluginRegistry = builtinRegistry,
): { config?: LoadedConfig; errors: ConfigError[] } {
  try {
    return load(doc, registry)
  } catch (err) {
    // A plugin schema or check that throws is a bug, but the caller reports config errors and must not crash.
    return { errors: [{ path: '', message: `internal error while loading config: ${(err as Error).message}` }] }
  }
}

function load(doc: unknown, registry: PluginRegistry): { config?: LoadedConfig; errors: ConfigError[] } {
  const parsed = endpointPickerConfigSchema.safeParse(doc)
  if (!parsed.success) return { errors: zodErrors(parsed.error, '') }
  const cfg = parsed.data
  const errors: ConfigError[] = []
  const warnings: string[] = []

  const apiVersion = cfg.apiVersion ?? 'llm-d.ai/v1alpha1'
  if (apiVersion === 'inference.networking.x-k8s.io/v1alpha1' && cfg.apiVersion !== undefined) {
    warnings.push('apiVersion inference.networking.x-k8s.io/v1alpha1 is deprecated in llm-d; llm-d.ai/v1alpha1 is current')
  }

  const plugins: LoadedPlugin[] = []
  // Slots of plugins that failed validation: their absence must not cascade into more errors.
  const invalidKinds = new Set<PluginKind>()
  const invalidNames = new Set<string>()
  const defs = new Map<string, { def: PluginDefinition; index: number }>()
  cfg.plugins.forEach((p, i) => {
    const def = registry.get(p.type)
    if (!def) {
      errors.push({ path: `plugins[${i}].type`, message: `unknown plugin type ${JSON.stringify(p.type)}; registered types: ${registry.types().join(', ')}` })
      return
    }
    const name = p.name ?? p.type
    if (defs.has(name)) {
      errors.push({ path: `plugins[${i}].name`, message: `duplicate plugin name ${JSON.stringify(name)}` })
      return
    }
    const params = def.parameters.safeParse(p.parameters ?? {})
    if (!params.success) {
      errors.push(...zodErrors(params.error, `plugins[${i}].parameters`, `plugin ${name} (${def.type}): `))
      for (const kind of def.kinds) invalidKinds.add(kind)
      invalidNames.add(name)
      return
    }
    if (def.type !== p.type) warnings.push(`plugin ${name}: type ${p.type} is the older spelling of ${def.type}`)
    defs.set(name, { def, index: i })
    plugins.push({ name, type: def.type, parameters: params.data, kinds: def.kinds, injected: false })
  })
  const inject = (type: string, parameters: unknown = {}): string => {
    const def = registry.get(type)
    if (!def) throw new Error(`default plugin ${type} is not registered`)
    let name = type
    for (let n = 2; defs.has(name); n++) name = `${type}-${n}`
    defs.set(name, { def, index: -1 })
    plugins.push({ name, type, parameters: def.parameters.parse(parameters), kinds: def.kinds, injected: true })
    return name
  }
  const byKind = (kind: PluginKind) => plugins.filter((p) => p.kinds.includes(kind))

  // Cross-plugin references named in parameters (deciders, producers, prefix plugin names).
  for (const p of plugins) {
    const { def, index } = defs.get(p.name)!
    for (const ref of def.references?.(p.parameters) ?? []) {
      const target = plugins.find((q) => q.name === ref.name)
      const path = `plugins[${index}].parameters.${ref.path}`
      if (!target) {
        if (!invalidNames.has(ref.name)) errors.push({ path, message: `plugin ${p.name}: no plugin named ${JSON.stringify(ref.name)}` })
      }
      else if (!target.kinds.includes(ref.kind)) {
        errors.push({ path, message: `plugin ${p.name}: ${ref.name} (${target.type}) is not a ${ref.kind}` })
      }
    }
  }

  // Profiles: the default profile references every filter, scorer and picker.
  const docProfiles = cfg.schedulingProfiles ?? [
    {
      name: 'default',
      plugins: plugins.filter((p) => isProfileSlot(p.kinds)).map((p) => ({ pluginRef: p.name, weight: undefined })),
    },
  ]
  if (docProfiles.length === 0) errors.push({ path: 'schedulingProfiles', message: 'at least one scheduling profile is required' })
  const profiles: LoadedProfile[] = []
  const profileNames = new Set<string>()
  docProfiles.forEach((prof, pi) => {
    if (profileNames.has(prof.name)) errors.push({ path: `schedulingProfiles[${pi}].name`, message: `duplicate profile name ${JSON.stringify(prof.name)}` })
    profileNames.add(prof.name)
    const filters: string[] = []
    const scorers: { pluginRef: string; weight: number }[] = []
    const pickers: string[] = []
    prof.plugins.forEach((ref, ri) => {
      const path = `schedulingProfiles[${pi}].plugins[${ri}]`
      const target = plugins.find((p) => p.name === ref.pluginRef)
      if (!target) {
        if (invalidNames.has(ref.pluginRef)) return // already reported where it is defined
        const known = plugins.filter((p) => !p.injected).map((p) => p.name).join(', ')
        errors.push({ path: `${path}.pluginRef`, message: `profile ${prof.name}: no plugin named ${JSON.stringify(ref.pluginRef)}; plugins: ${known}` })
        return
      }
      if (!isProfileSlot(target.kinds)) {
        errors.push({ path: `${path}.pluginRef`, message: `profile ${prof.name}: ${target.name} (${target.type}) is not a filter, scorer or picker` })
        return
      }
      if (target.kinds.includes('filter')) filters.push(target.name)
      if (target.kinds.includes('scorer')) scorers.push({ pluginRef: target.name, weight: ref.weight ?? DEFAULT_SCORER_WEIGHT })
      else if (ref.weight !== undefined) warnings.push(`profile ${prof.name}: weight on ${target.name} is ignored (not a scorer)`)
      if (target.kinds.includes('picker')) pickers.push(target.name)
    })
    if (pickers.length > 1) {
      errors.push({ path: `schedulingProfiles[${pi}].plugins`, message: `profile ${prof.name}: more than one picker (${pickers.join(', ')})` })
    }
    const picker = pickers[0] ?? byKind('picker').find((p) => p.type === 'max-score-picker' && p.injected)?.name ?? inject('max-score-picker')
    profiles.push({ name: prof.name, filters, scorers, picker })
  })

  const handlers = byKind('profile-handler')
  let profileHandler = handlers[0]?.name
  if (handlers.length > 1) errors.push({ path: 'plugins', message: `more than one profile handler: ${handlers.map((h) => h.name).join(', ')}` })
  if (!profileHandler) {
    if (profiles.length === 1) profileHandler = inject('single-profile-handler')
    else if (!invalidKinds.has('profile-handler')) {
      errors.push({ path: 'plugins', message: `${profiles.length} scheduling profiles need a profile handler (e.g. pd-profile-handler)` })
    }
  }
  for (const h of handlers) {
    const { def, index } = defs.get(h.name)!
    for (const problem of def.check?.(h.parameters, { profileNames: profiles.map((p) => p.name) }) ?? []) {
      errors.push({ path: problem.path ? `plugins[${index}].parameters.${problem.path}` : `plugins[${index}]`, message: `plugin ${h.name}: ${problem.message}` })
    }
  }

  // Saturation detector: GIE v1.3 thresholds, v1.5 pluginRef, or the default utilization-detector.
  let saturationDetector: string
  const sd = cfg.saturationDetector
  if (sd && 'pluginRef' in sd) {
    const target = plugins.find((p) => p.name === sd.pluginRef)
    if (!target) errors.push({ path: 'saturationDetector.pluginRef', message: `no plugin named ${JSON.stringify(sd.pluginRef)}` })
    else if (!target.kinds.includes('saturation-detector')) errors.push({ path: 'saturationDetector.pluginRef', message: `${target.name} (${target.type}) is not a saturation detector` })
    saturationDetector = sd.pluginRef
  } else {
    const existing = byKind('saturation-detector')[0]
    saturationDetector = sd ? inject('utilization-detector', sd) : existing ? existing.name : inject('utilization-detector')
  }

  // Data layer: the metrics source and extractor are added unless the document opts out.
  const layer = cfg.dataLayer ?? cfg.data
  for (const [si, source] of (layer?.sources ?? []).entries()) {
    const base = `${cfg.dataLayer ? 'dataLayer' : 'data'}.sources[${si}]`
    const refs = [{ path: `${base}.pluginRef`, name: source.pluginRef }, ...(source.extractors ?? []).map((e, ei) => ({ path: `${base}.extractors[${ei}].pluginRef`, name: e.pluginRef }))]
    for (const ref of refs) if (!defs.has(ref.name)) errors.push({ path: ref.path, message: `no plugin named ${JSON.stringify(ref.name)}` })
  }
  if (cfg.dataLayer?.injectDefaults !== false) {
    if (!plugins.some((p) => p.type === 'metrics-data-source')) inject('metrics-data-source')
    if (!plugins.some((p) => p.type === 'core-metrics-extractor')) inject('core-metrics-extractor')
  }

  const featureGates: Record<string, boolean> = { flowControl: false, dataLayer: true }
  for (const gate of cfg.featureGates ?? []) {
    const [name = '', value] = gate.split('=')
    featureGates[name] = value !== 'false'
  }
  if (featureGates.flowControl || cfg.flowControl) warnings.push('flowControl is accepted but not implemented: requests are not queued in the picker')

  if (errors.length > 0 || !profileHandler) return { errors }
  return { config: { apiVersion, plugins, schedulingProfiles: profiles, profileHandler, saturationDetector, featureGates, warnings }, errors }
}

const isProfileSlot = (kinds: readonly PluginKind[]) => kinds.includes('filter') || kinds.includes('scorer') || kinds.includes('picker')

/** One ConfigError per zod issue; unknown keys get one error each, at their own path. */
function zodErrors(error: z.ZodError, base: string, prefix = ''): ConfigError[] {
  return error.issues.flatMap((issue) => {
    const path = joinPath(base, issue.path)
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: joinPath(path, [key]), message: `${prefix}unknown field ${JSON.stringify(key)}` }))
    }
    return [{ path, message: prefix + issue.message }]
  })
}

function joinPath(base: string, segments: readonly PropertyKey[]): string {
  let out = base
  for (const seg of segments) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? String(seg) : `.${String(seg)}`
  return out
}
