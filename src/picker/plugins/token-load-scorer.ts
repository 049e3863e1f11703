import { z } from 'zod'
import type { PluginDefinition } from '../framework/registry.js'
import type { Scorer } from '../framework/types.js'

/** llm-d HEAD: `1 − min(1, inFlightTokens/queueThresholdTokens)`, in-flight prompt tokens this picker sent. */
export const tokenLoadScorer: PluginDefinition<{ queueThresholdTokens: number }> = {
  type: 'token-load-scorer',
  parameters: z.strictObject({ queueThresholdTokens: z.number().positive().default(4194304) }),
  kinds: ['scorer'],
  create: (name, { queueThresholdTokens }): Scorer => ({
    type: 'token-load-scorer',
    name,
    score: (_cycle, _request, endpoints) =>
      new Map(endpoints.map((e) => [e, 1 - Math.min(1, e.inFlightTokens / queueThresholdTokens)])),
  }),
}
