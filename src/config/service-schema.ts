import { z } from 'zod'
import { labelMap, objectMeta } from './object-meta.js'

/** A Kubernetes Service, reduced to what routing needs: a label selector over ModelServers and its ports. */
export const serviceSchema = z.strictObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Service'),
  metadata: objectMeta,
  spec: z.strictObject({
    type: z.enum(['ClusterIP']).default('ClusterIP'),
    selector: labelMap,
    ports: z
      .array(
        z.strictObject({
          name: z.string().optional(),
          port: z.number().int().min(1).max(65535),
          targetPort: z.union([z.number().int(), z.string()]).optional(),
          protocol: z.enum(['TCP']).default('TCP'),
          appProtocol: z.string().optional(),
        }),
      )
      .min(1),
  }),
})
export type Service = z.output<typeof serviceSchema>
