import type { z } from 'zod'
import { rateLimitPolicyKind } from './policy-common.js'

/** Kuadrant TokenRateLimitPolicy: tokens (`usage.total_tokens`), reserved before forwarding and settled afterwards. */
export const tokenRateLimitPolicySchema = rateLimitPolicyKind('kuadrant.io/v1alpha1', 'TokenRateLimitPolicy')
export type TokenRateLimitPolicy = z.output<typeof tokenRateLimitPolicySchema>
