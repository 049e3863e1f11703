import type { ObjectMeta } from './object-meta.js'

/**
 * An EndpointPickerConfig inside a stack file. Its document is checked by the picker's own loader, exactly as
 * `maitred picker --config-file` checks it; `metadata`, when present, is checked as every other kind's.
 */
export interface EndpointPickerConfigResource {
  kind: 'EndpointPickerConfig'
  /**
   * `metadata.name` links it to the InferencePool whose `endpointPickerRef.name` names it. llm-d's and GIE's own files
   * (what `--config-file` takes, a ConfigMap's payload) have no metadata: such a config is bound as the EPP binds its one
   * config file (see derive-stack.ts).
   */
  metadata?: ObjectMeta
  /** The config document without `metadata`, as the picker reads it. */
  config: Record<string, unknown>
}
