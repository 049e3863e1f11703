import { z } from 'zod'
import { objectMeta } from './object-meta.js'

export const ENDPOINT_PICKER_CONFIG_API_VERSIONS = ['inference.networking.x-k8s.io/v1alpha1', 'llm-d.ai/v1alpha1'] as const

/**
 * The envelope of an EndpointPickerConfig inside a stack file. Its body (plugins, schedulingProfiles, …) is validated by
 * the picker's own loader, which knows every plugin's parameters; `metadata.name` links it to the InferencePool whose
 * `endpointPickerRef.name` names it.
 */
export const endpointPickerConfigEnvelope = z.looseObject({
  apiVersion: z.enum(ENDPOINT_PICKER_CONFIG_API_VERSIONS),
  kind: z.literal('EndpointPickerConfig'),
  metadata: objectMeta,
})

export interface EndpointPickerConfigResource {
  apiVersion: (typeof ENDPOINT_PICKER_CONFIG_API_VERSIONS)[number]
  kind: 'EndpointPickerConfig'
  metadata: z.output<typeof objectMeta>
  /** The config document without `metadata`, as the picker reads it. */
  config: Record<string, unknown>
}
