import { z } from 'zod'
import type { PluginDefinition } from '../framework/registry.js'
import type { Scorer } from '../framework/types.js'

/**
 * GIE: the requested adapter (the request's model) is active → 1.0; there is room to load it
 * (`active + waiting < max_lora`) → 0.8; it is waiting to load → 0.6; otherwise 0.
 */
export const loraAffinityScorer: PluginDefinition<Record<string, never>> = {
  type: 'lora-affinity-scorer',
  parameters: z.strictObject({}),
  kinds: ['scorer'],
  create: (name): Scorer => ({
    type: 'lora-affinity-scorer',
    name,
    score: (_cycle, request, endpoints) =>
      new Map(
        endpoints.map((e) => {
          const active = e.metrics.activeModels ?? []
          const waiting = e.metrics.waitingModels ?? []
          const model = request.targetModel
          if (active.includes(model)) return [e, 1]
          if (active.length + waiting.length < (e.metrics.maxActiveModels ?? 0)) return [e, 0.8]
          if (waiting.includes(model)) return [e, 0.6]
          return [e, 0]
        }),
      ),
  }),
}
