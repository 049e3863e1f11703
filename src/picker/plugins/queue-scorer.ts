import { z } from 'zod'
import type { PluginDefinition } from '../framework/registry.js'
import type { Scorer } from '../framework/types.js'
import { minMaxLowerIsBetter } from './min-max.js'

/** Shorter waiting queue scores higher: min-max over the candidates' `vllm:num_requests_waiting`. */
export const queueScorer: PluginDefinition<Record<string, never>> = {
  type: 'queue-scorer',
  parameters: z.strictObject({}),
  kinds: ['scorer'],
  create: (name): Scorer => ({
    type: 'queue-scorer',
    name,
    score: (_cycle, _request, endpoints) => minMaxLowerIsBetter(endpoints, (e) => e.metrics.waitingQueueSize),
  }),
}
