import { z } from 'zod'
import { objectMeta } from './object-meta.js'
import { checkPolicyForm, rateLimitPolicySpec } from './policy-common.js'

/** Kuadrant TokenRateLimitPolicy: tokens (`usage.total_tokens`), reserved before forwarding and settled afterwards. */
export const tokenRateLimitPolicySchema = z
  .strictObject({
    apiVersion: z.literal('kuadrant.io/v1alpha1'),
    kind: z.literal('TokenRateLimitPolicy'),
    metadata: objectMeta,
    spec: rateLimitPolicySpec,
  })
  .superRefine((p, ctx) => checkPolicyForm(p.spec, 'limits', p.spec.limits !== undefined, ctx))
export type TokenRateLimitPolicy = z.output<typeof tokenRateLimitPolicySchema>
