import { z } from 'zod'
import { labelMap, objectMeta, resourceName } from './object-meta.js'
import { checkRemotePickerAnnotations } from './remote-picker-annotations.js'

const endpointPickerRef = z.strictObject({
  group: z.string().default(''),
  kind: z.string().default('Service'),
  name: resourceName,
  port: z.strictObject({ number: z.number().int().min(1).max(65535) }).optional(),
  failureMode: z.enum(['FailOpen', 'FailClose']).default('FailClose'),
})

/** A pool's metadata, with the remote-picker annotations checked where they are written. */
const poolMeta = objectMeta.superRefine((meta, ctx) => checkRemotePickerAnnotations(meta.annotations, ctx))

const v1 = z.strictObject({
  apiVersion: z.literal('inference.networking.k8s.io/v1'),
  kind: z.literal('InferencePool'),
  metadata: poolMeta,
  spec: z.strictObject({
    selector: z.strictObject({ matchLabels: labelMap.refine((m) => Object.keys(m).length > 0, 'needs at least one label') }),
    targetPorts: z.array(z.strictObject({ number: z.number().int().min(1).max(65535) })).min(1).max(8),
    appProtocol: z.enum(['http', 'kubernetes.io/h2c']).default('http'),
    endpointPickerRef: endpointPickerRef.optional(),
  }),
})

/** The legacy group (GIE v1alpha2): `targetPortNumber` and `extensionRef`. Normalised to the v1 shape at load. */
const v1alpha2 = z.strictObject({
  apiVersion: z.literal('inference.networking.x-k8s.io/v1alpha2'),
  kind: z.literal('InferencePool'),
  metadata: poolMeta,
  spec: z.strictObject({
    selector: labelMap,
    targetPortNumber: z.number().int().min(1).max(65535),
    extensionRef: z
      .strictObject({
        group: z.string().default(''),
        kind: z.string().default('Service'),
        name: resourceName,
        portNumber: z.number().int().optional(),
        failureMode: z.enum(['FailOpen', 'FailClose']).default('FailClose'),
      })
      .optional(),
  }),
})

export const inferencePoolSchema = z.union([v1, v1alpha2]).transform((pool) => {
  if (pool.apiVersion === 'inference.networking.k8s.io/v1') return pool
  const ext = pool.spec.extensionRef
  return {
    apiVersion: 'inference.networking.k8s.io/v1' as const,
    kind: 'InferencePool' as const,
    metadata: pool.metadata,
    spec: {
      selector: { matchLabels: pool.spec.selector },
      targetPorts: [{ number: pool.spec.targetPortNumber }],
      appProtocol: 'http' as const,
      endpointPickerRef: ext && {
        group: ext.group,
        kind: ext.kind,
        name: ext.name,
        port: ext.portNumber === undefined ? undefined : { number: ext.portNumber },
        failureMode: ext.failureMode,
      },
    },
  }
})
export type InferencePool = z.output<typeof inferencePoolSchema>
