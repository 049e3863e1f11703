import type { z } from 'zod'
import { rateLimitPolicyKind } from './policy-common.js'

/** Kuadrant RateLimitPolicy: request counts, checked before the request is forwarded. */
export const rateLimitPolicySchema = rateLimitPolicyKind('kuadrant.io/v1', 'RateLimitPolicy')
export type RateLimitPolicy = z.output<typeof rateLimitPolicySchema>
