import { z } from 'zod'
import { labelMap, objectMeta, resourceName } from './object-meta.js'

/** Kubernetes types maitred does not interpret (PodSpec, HPA behaviour…) are accepted as opaque objects. */
const opaque = z.record(z.string(), z.unknown())

const workloadFields = {
  replicas: z.number().int().min(0).optional(),
  scaling: opaque.optional(),
  parallelism: z
    .strictObject({
      tensor: z.number().int().min(1).optional(),
      pipeline: z.number().int().min(1).optional(),
      data: z.number().int().min(1).optional(),
      dataLocal: z.number().int().min(1).optional(),
      dataRPCPort: z.number().int().min(1).max(65535).optional(),
      expert: z.boolean().optional(),
    })
    .optional(),
  template: opaque.optional(),
  worker: opaque.optional(),
}

const gatewayRef = z.strictObject({ name: resourceName, namespace: resourceName.optional(), sectionName: z.string().optional() })

const spec = z.strictObject({
  model: z.strictObject({
    uri: z.string().min(1),
    name: z.string().min(1).optional(),
    criticality: z.enum(['Critical', 'Standard', 'Sheddable']).optional(),
    lora: z
      .strictObject({
        adapters: z.array(z.record(z.string(), z.unknown())).optional(),
        maxRank: z.number().int().optional(),
        maxAdapters: z.number().int().optional(),
        maxCpuAdapters: z.number().int().optional(),
      })
      .optional(),
    confidential: opaque.optional(),
  }),
  ...workloadFields,
  labels: labelMap.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  storageInitializer: z.strictObject({ enabled: z.boolean().optional() }).optional(),
  rolloutStrategy: opaque.optional(),
  kvCacheOffloading: opaque.optional(),
  tracing: opaque.optional(),
  baseRefs: z.array(z.strictObject({ name: resourceName })).optional(),
  prefill: z.strictObject(workloadFields).optional(),
  router: z
    .strictObject({
      route: z
        .strictObject({
          http: z.strictObject({ refs: z.array(z.strictObject({ name: resourceName })).optional(), spec: opaque.optional() }).optional(),
          group: z.string().optional(),
          weight: z.number().int().min(0).max(1_000_000).optional(),
        })
        .optional(),
      gateway: z.strictObject({ refs: z.array(gatewayRef).optional() }).optional(),
      ingress: opaque.optional(),
      scheduler: z
        .strictObject({
          pool: z.strictObject({ spec: opaque.optional(), ref: z.strictObject({ name: resourceName }).optional() }).optional(),
          config: z
            .strictObject({
              /** An EndpointPickerConfig, as an object or as YAML text. */
              inline: z.union([opaque, z.string()]).optional(),
              ref: z.strictObject({ name: z.string(), key: z.string() }).optional(),
            })
            .optional(),
          template: opaque.optional(),
          replicas: z.number().int().min(0).optional(),
          labels: labelMap.optional(),
          annotations: z.record(z.string(), z.string()).optional(),
          tokenizer: opaque.optional(),
        })
        .optional(),
    })
    .optional(),
})

export const llmInferenceServiceSchema = z.strictObject({
  apiVersion: z.enum(['serving.kserve.io/v1alpha1', 'serving.kserve.io/v1alpha2']),
  kind: z.literal('LLMInferenceService'),
  metadata: objectMeta,
  spec,
})
export type LLMInferenceService = z.output<typeof llmInferenceServiceSchema>
