import { z } from 'zod'
import type { PluginDefinition } from '../framework/registry.js'
import type { Scorer } from '../framework/types.js'
import { minMaxLowerIsBetter } from './min-max.js'

/** Fewer running requests score higher: min-max over `vllm:num_requests_running`. */
export const runningRequestsSizeScorer: PluginDefinition<Record<string, never>> = {
  type: 'running-requests-size-scorer',
  parameters: z.strictObject({}),
  kinds: ['scorer'],
  create: (name): Scorer => ({
    type: 'running-requests-size-scorer',
    name,
    score: (_cycle, _request, endpoints) => minMaxLowerIsBetter(endpoints, (e) => e.metrics.runningRequestsSize),
  }),
}
