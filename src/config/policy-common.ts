import { parse as parseCel } from '@marcbachmann/cel-js'
import { z } from 'zod'
import { gatewayDuration, objectMeta, resourceName } from './object-meta.js'

/** A CEL expression, compiled at load so a syntax error is reported with its file, resource and field. */
export const celExpression = z
  .string()
  .min(1)
  .max(4096)
  .superRefine((source, ctx) => {
    try {
      parseCel(source)
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `CEL syntax error: ${(err as Error).message.split('\n')[0]}` })
    }
  })

/** Kuadrant's `when`: every predicate must be true. */
export const whenPredicates = z.array(z.strictObject({ predicate: celExpression })).max(32)

/** Gateway API policy attachment (GEP-713): a Gateway (optionally one listener) or an HTTPRoute (optionally one rule), same namespace. */
export const policyTargetRef = z.strictObject({
  group: z.literal('gateway.networking.k8s.io').default('gateway.networking.k8s.io'),
  kind: z.enum(['Gateway', 'HTTPRoute']),
  name: resourceName,
  sectionName: z.string().min(1).max(253).optional(),
})
export type PolicyTargetRef = z.output<typeof policyTargetRef>

/** RateLimitPolicy / TokenRateLimitPolicy `limits.<name>`: rates (the first reached applies), counters, when. */
export const rateLimit = z.strictObject({
  rates: z.array(z.strictObject({ limit: z.number().int().min(0), window: gatewayDuration })).min(1).max(8),
  counters: z.array(z.strictObject({ expression: celExpression })).max(8).optional(),
  when: whenPredicates.optional(),
})
export type RateLimit = z.output<typeof rateLimit>

export const rateLimits = z.record(z.string().min(1).max(63), rateLimit)

/** The part of a rate-limit policy that `limits`, `defaults` and `overrides` share. */
export const rateLimitBlock = z.strictObject({
  limits: rateLimits,
  when: whenPredicates.optional(),
  strategy: z.enum(['atomic']).default('atomic').optional(),
})

/** The spec RateLimitPolicy and TokenRateLimitPolicy share. */
export const rateLimitPolicySpec = z.strictObject({
  targetRef: policyTargetRef,
  limits: rateLimits.optional(),
  when: whenPredicates.optional(),
  defaults: rateLimitBlock.optional(),
  overrides: rateLimitBlock.optional(),
})

/** A RateLimitPolicy-shaped kind (RateLimitPolicy, TokenRateLimitPolicy): the same spec under its own apiVersion and kind. */
export function rateLimitPolicyKind<V extends string, K extends string>(apiVersion: V, kind: K) {
  return z
    .strictObject({ apiVersion: z.literal(apiVersion), kind: z.literal(kind), metadata: objectMeta, spec: rateLimitPolicySpec })
    .superRefine((p, ctx) => checkPolicyForm(p.spec, 'limits', p.spec.limits !== undefined, ctx))
}

/**
 * Kuadrant's policy shapes: implicit defaults (top-level fields) or exactly one of `defaults` / `overrides`, never both
 * forms. `overrides` only from a Gateway (a route may not override its gateway).
 */
export function checkPolicyForm(
  spec: { targetRef: PolicyTargetRef; defaults?: unknown; overrides?: unknown },
  implicit: string,
  hasImplicit: boolean,
  ctx: z.RefinementCtx,
): void {
  const forms = [hasImplicit, spec.defaults !== undefined, spec.overrides !== undefined].filter(Boolean).length
  if (forms > 1) ctx.addIssue({ code: 'custom', path: ['spec'], message: `set only one of ${implicit}, defaults or overrides` })
  if (forms === 0) ctx.addIssue({ code: 'custom', path: ['spec'], message: `set one of ${implicit}, defaults or overrides` })
  if (spec.overrides !== undefined && spec.targetRef.kind !== 'Gateway')
    ctx.addIssue({ code: 'custom', path: ['spec', 'overrides'], message: 'overrides may only target a Gateway' })
}
