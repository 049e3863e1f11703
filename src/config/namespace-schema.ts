import { z } from 'zod'
import { labelMap, resourceName } from './object-meta.js'

/** A Namespace, declared only to give it labels that a listener's `allowedRoutes.namespaces.selector` can match. */
export const namespaceSchema = z.strictObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Namespace'),
  metadata: z.strictObject({ name: resourceName, labels: labelMap.optional(), annotations: z.record(z.string(), z.string()).optional() }),
})
export type Namespace = z.output<typeof namespaceSchema>
