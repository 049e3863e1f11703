import { z } from 'zod'
import type { PluginDefinition } from '../framework/registry.js'
import type { Scorer } from '../framework/types.js'

/** llm-d: empty queue → 0.5, queue ≥ threshold → 0, else `0.5·(1 − q/threshold)` (0.5 is the maximum by design). */
export const loadAwareScorer: PluginDefinition<{ threshold: number }> = {
  type: 'load-aware-scorer',
  parameters: z.strictObject({ threshold: z.number().int().positive().default(128) }),
  kinds: ['scorer'],
  create: (name, { threshold }): Scorer => ({
    type: 'load-aware-scorer',
    name,
    score: (_cycle, _request, endpoints) =>
      new Map(
        endpoints.map((e) => {
          const q = e.metrics.waitingQueueSize
          return [e, q <= 0 ? 0.5 : q >= threshold ? 0 : 0.5 * (1 - q / threshold)]
        }),
      ),
  }),
}
