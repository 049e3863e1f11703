import { z } from 'zod'
import { objectMeta, resourceName } from './object-meta.js'

/** GIE v1.x's group, and llm-d's, which took the API over at HEAD (spec/epp.md §7). */
export const INFERENCE_OBJECTIVE_API_VERSIONS = ['inference.networking.x-k8s.io/v1alpha2', 'llm-d.ai/v1alpha1'] as const

/**
 * InferenceObjective: a request's importance in one InferencePool. A request names it in `x-gateway-inference-objective`
 * (llm-d HEAD: `x-llm-d-inference-objective`); a negative priority makes it sheddable, dropped with 429 while the pool is
 * saturated. Unset priority is 0 (never shed).
 */
export const inferenceObjectiveSchema = z.strictObject({
  apiVersion: z.enum(INFERENCE_OBJECTIVE_API_VERSIONS),
  kind: z.literal('InferenceObjective'),
  metadata: objectMeta,
  spec: z.strictObject({
    /** int32; higher is more important. */
    priority: z.number().int().min(-2_147_483_648).max(2_147_483_647).default(0),
    poolRef: z.strictObject({
      group: z.enum(['inference.networking.k8s.io', 'inference.networking.x-k8s.io']).default('inference.networking.k8s.io'),
      kind: z.literal('InferencePool').default('InferencePool'),
      name: resourceName,
    }),
  }),
})
export type InferenceObjective = z.output<typeof inferenceObjectiveSchema>
