import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { DEFAULT_PICKER_CONFIG_YAML } from '../default-config.js'
import { builtinRegistry } from '../plugins/builtin-registry.js'
import { loadEndpointPickerConfig } from './config-loader.js'
import { instantiatePlugins } from './plugin-set.js'
import { SPEC_CONFIGS } from './testdata/spec-configs.js'

const load = (yaml: string) => loadEndpointPickerConfig(parse(yaml))
const services = { now: () => 0, random: () => 0.5 }

describe('loadEndpointPickerConfig', () => {
  it.each(Object.entries(SPEC_CONFIGS))('loads and instantiates %s', (_name, yaml) => {
    const { config, errors } = load(yaml)
    expect(errors).toEqual([])
    expect(config).toBeDefined()
    const set = instantiatePlugins(config!, services)
    expect(set.profiles.size).toBe(config!.schedulingProfiles.length)
  })

  it('loads the default config with the seed weights and fills the defaults', () => {
    const { config, errors } = load(DEFAULT_PICKER_CONFIG_YAML)
    expect(errors).toEqual([])
    expect(config!.schedulingProfiles).toEqual([
      {
        name: 'default',
        filters: [],
        scorers: [
          { pluginRef: 'queue-scorer', weight: 2 },
          { pluginRef: 'kv-cache-utilization-scorer', weight: 2 },
          { pluginRef: 'prefix-cache-scorer', weight: 3 },
        ],
        picker: 'max-score-picker',
      },
    ])
    expect(config!.profileHandler).toBe('single-profile-handler')
    expect(config!.saturationDetector).toBe('utilization-detector')
    const injected = config!.plugins.filter((p) => p.injected).map((p) => p.type)
    expect(injected.sort()).toEqual(['core-metrics-extractor', 'metrics-data-source', 'single-profile-handler', 'utilization-detector'])
  })

  it('builds a default profile over every filter, scorer and picker when schedulingProfiles is missing, weight 1', () => {
    const { config } = load('plugins: [{type: decode-filter}, {type: queue-scorer}, {type: prefill-header-handler}]')
    expect(config!.schedulingProfiles).toEqual([{ name: 'default', filters: ['decode-filter'], scorers: [{ pluginRef: 'queue-scorer', weight: 1 }], picker: 'max-score-picker' }])
  })

  it('maps GIE v1.3 saturationDetector thresholds onto a utilization-detector', () => {
    const { config } = load('plugins: [{type: queue-scorer}]\nsaturationDetector: {queueDepthThreshold: 9, metricsStalenessThreshold: 1s}')
    const sd = config!.plugins.find((p) => p.name === config!.saturationDetector)
    expect(sd).toMatchObject({ type: 'utilization-detector', parameters: { queueDepthThreshold: 9, metricsStalenessThreshold: 1000, kvCacheUtilThreshold: 0.8 } })
  })

  it('accepts the older by-label-selector spelling and warns', () => {
    const { config, errors } = load('plugins: [{type: by-label-selector, parameters: {matchLabels: {a: b}}}]')
    expect(errors).toEqual([])
    expect(config!.plugins[0]).toMatchObject({ name: 'by-label-selector', type: 'label-selector-filter' })
    expect(config!.warnings.join()).toContain('older spelling')
  })

  it('honours injectDefaults: false and featureGates', () => {
    const { config } = load('plugins: [{type: queue-scorer}]\ndataLayer: {injectDefaults: false}\nfeatureGates: [flowControl, dataLayer=false]')
    expect(config!.plugins.some((p) => p.type === 'metrics-data-source')).toBe(false)
    expect(config!.featureGates).toMatchObject({ flowControl: true, dataLayer: false })
    expect(config!.warnings.join()).toContain('flowControl')
  })

  describe('errors name the field', () => {
    const errorsOf = (yaml: string) => load(yaml).errors
    it('unknown plugin type, listing the registered ones', () => {
      const [e] = errorsOf('plugins: [{type: queue-scorer}, {type: nope-scorer}]')
      expect(e!.path).toBe('plugins[1].type')
      expect(e!.message).toContain('nope-scorer')
      expect(e!.message).toContain('queue-scorer, random-picker')
    })
    it('unknown and invalid parameters, by the plugin schema', () => {
      const errors = errorsOf(`
plugins:
- type: queue-scorer
- type: load-aware-scorer
  parameters: {threshold: -3}
- type: pd-profile-handler
  parameters: {threshhold: 10}
schedulingProfiles: [{name: decode, plugins: []}, {name: prefill, plugins: []}]`)
      expect(errors.map((e) => e.path)).toEqual(['plugins[1].parameters.threshold', 'plugins[2].parameters.threshhold'])
      expect(errors[1]!.message).toMatch(/pd-profile-handler.*unknown field "threshhold"/)
    })
    it('dangling pluginRefs in profiles and parameters', () => {
      const errors = errorsOf(`
plugins:
- type: queue-scorer
- type: disagg-profile-handler
  parameters: {deciders: {prefill: my-decider}}
schedulingProfiles:
- name: decode
  plugins: [{pluginRef: queue-scorer}, {pluginRef: kv-scorer}]`)
      expect(errors.map((e) => e.path)).toEqual(['plugins[1].parameters.deciders.prefill', 'schedulingProfiles[0].plugins[1].pluginRef'])
      expect(errors[1]!.message).toContain('kv-scorer')
    })
    it('a reference of the wrong kind, a non-slot plugin in a profile, two pickers', () => {
      const errors = errorsOf(`
plugins:
- type: queue-scorer
- type: random-picker
- type: max-score-picker
- type: prefill-header-handler
- type: pd-profile-handler
  parameters: {deciderPluginName: queue-scorer}
schedulingProfiles:
- name: decode
  plugins: [{pluginRef: prefill-header-handler}, {pluginRef: random-picker}, {pluginRef: max-score-picker}]
- name: prefill
  plugins: []`)
      expect(errors.map((e) => e.path)).toEqual([
        'plugins[4].parameters.deciderPluginName',
        'schedulingProfiles[0].plugins[0].pluginRef',
        'schedulingProfiles[0].plugins',
      ])
    })
    it('profiles a handler needs, and several profiles without a handler', () => {
      expect(errorsOf('plugins: [{type: pd-profile-handler}]\nschedulingProfiles: [{name: decode, plugins: []}]')).toEqual([
        { path: 'plugins[0].parameters.prefillProfile', message: 'plugin pd-profile-handler: no scheduling profile named "prefill"' },
      ])
      expect(errorsOf('plugins: [{type: queue-scorer}]\nschedulingProfiles: [{name: a, plugins: []}, {name: b, plugins: []}]')[0]!.message).toContain('need a profile handler')
    })
    it('unknown top-level fields, a wrong apiVersion, duplicate names, and non-objects', () => {
      expect(errorsOf('apiVersion: v9\nplugins: []\nschedulers: []').map((e) => e.path)).toEqual(['apiVersion', 'schedulers'])
      expect(errorsOf('plugins: [{type: queue-scorer}, {type: queue-scorer}]')[0]!.path).toBe('plugins[1].name')
      expect(loadEndpointPickerConfig('nonsense').errors.length).toBeGreaterThan(0)
      expect(loadEndpointPickerConfig(undefined).errors.length).toBeGreaterThan(0)
    })
  })

  it('every registered plugin declares the slots its instances fill', () => {
    for (const def of builtinRegistry.definitions()) {
      const kindsFromInstance = new Set<string>()
      const plugin = def.create(def.type, def.parameters.parse(def.type === 'by-label' ? { label: 'a', validValues: ['b'] } : {}), {
        ...services,
        plugin: () => undefined,
        plugins: () => [],
      }) as unknown as Record<string, unknown>
      const methods: Record<string, string> = {
        filter: 'filter', score: 'scorer', pick: 'picker', pickProfiles: 'profile-handler', preRequest: 'pre-request',
        produce: 'data-producer', saturation: 'saturation-detector', disaggregate: 'pd-decider',
      }
      for (const [m, kind] of Object.entries(methods)) if (typeof plugin[m] === 'function') kindsFromInstance.add(kind)
      const declared = new Set(def.kinds.filter((k) => k !== 'data-source'))
      expect([...kindsFromInstance].sort(), def.type).toEqual([...declared].sort())
    }
  })
})
