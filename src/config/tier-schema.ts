import { z } from 'zod'
import { gatewayDuration, objectMeta } from './object-meta.js'

const rates = z.array(z.strictObject({ limit: z.number().int().min(0), window: gatewayDuration })).min(1).max(8)

/**
 * maitred's API-key tier (MaaS shipped these as a ConfigMap): which models its keys may call and its limits. The
 * controller turns the limits into a RateLimitPolicy and a TokenRateLimitPolicy per Gateway whose AuthPolicy takes keys
 * from the key store, counted per key.
 */
export const tierSchema = z.strictObject({
  apiVersion: z.literal('maitred.dev/v1alpha1'),
  kind: z.literal('Tier'),
  metadata: objectMeta,
  spec: z.strictObject({
    /** Higher is more; for display and ordering. */
    level: z.number().int().min(0).default(0),
    description: z.string().max(1024).optional(),
    /** Served model names (the request body's `model`) this tier may call; absent = every model. */
    models: z.array(z.string().min(1)).max(1024).optional(),
    limits: z
      .strictObject({
        requests: rates.optional(),
        tokens: rates.optional(),
      })
      .optional(),
  }),
})
export type Tier = z.output<typeof tierSchema>
