import { z } from 'zod'
import { durationMs } from './duration.js'

/** apiVersions an EndpointPickerConfig may carry: GIE / llm-d ≤ v0.9, and llm-d-router HEAD. */
export const PICKER_CONFIG_API_VERSIONS = ['inference.networking.x-k8s.io/v1alpha1', 'llm-d.ai/v1alpha1'] as const

const pluginRef = z.strictObject({ pluginRef: z.string().min(1) })

/**
 * The document shape of an EndpointPickerConfig (GIE v1.x and llm-d-router HEAD field names).
 * `parameters` stay opaque here: each plugin validates its own with its schema.
 */
export const endpointPickerConfigSchema = z.strictObject({
  apiVersion: z.enum(PICKER_CONFIG_API_VERSIONS).optional(),
  kind: z.literal('EndpointPickerConfig').optional(),
  // A config written as a Kubernetes object (in a stack file) carries metadata; the picker does not read it.
  metadata: z.looseObject({}).optional(),
  plugins: z.array(
    z.strictObject({
      name: z.string().min(1).optional(),
      type: z.string().min(1),
      parameters: z.unknown().optional(),
    }),
  ),
  schedulingProfiles: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        plugins: z.array(z.strictObject({ pluginRef: z.string().min(1), weight: z.number().nonnegative().optional() })),
      }),
    )
    .optional(),
  featureGates: z.array(z.string().regex(/^[A-Za-z][\w-]*(=(true|false))?$/, 'expected name, name=true or name=false')).optional(),
  // GIE v1.3 carried thresholds here; v1.5+ a pluginRef.
  saturationDetector: z
    .union([
      pluginRef,
      z.strictObject({
        queueDepthThreshold: z.number().int().nonnegative().optional(),
        kvCacheUtilThreshold: z.number().min(0).max(1).optional(),
        metricsStalenessThreshold: durationMs.optional(),
      }),
    ])
    .optional(),
  // GIE v1.3 `data`, v1.5/llm-d `dataLayer`; HEAD adds discovery/sync fields we accept but do not use.
  data: z.looseObject({ sources: z.array(z.strictObject({ pluginRef: z.string(), extractors: z.array(pluginRef).optional() })).optional() }).optional(),
  dataLayer: z
    .looseObject({
      sources: z.array(z.strictObject({ pluginRef: z.string(), extractors: z.array(pluginRef).optional() })).optional(),
      injectDefaults: z.boolean().optional(),
    })
    .optional(),
  flowControl: z.looseObject({}).optional(),
  parser: pluginRef.optional(),
  requestHandler: z.looseObject({}).optional(),
})

export type EndpointPickerConfigDoc = z.infer<typeof endpointPickerConfigSchema>
