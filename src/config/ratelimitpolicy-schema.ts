import { z } from 'zod'
import { objectMeta } from './object-meta.js'
import { checkPolicyForm, rateLimitPolicySpec } from './policy-common.js'

/** Kuadrant RateLimitPolicy: request counts, checked before the request is forwarded. */
export const rateLimitPolicySchema = z
  .strictObject({
    apiVersion: z.literal('kuadrant.io/v1'),
    kind: z.literal('RateLimitPolicy'),
    metadata: objectMeta,
    spec: rateLimitPolicySpec,
  })
  .superRefine((p, ctx) => checkPolicyForm(p.spec, 'limits', p.spec.limits !== undefined, ctx))
export type RateLimitPolicy = z.output<typeof rateLimitPolicySchema>
