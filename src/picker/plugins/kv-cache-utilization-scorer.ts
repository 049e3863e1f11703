import { z } from 'zod'
import type { PluginDefinition } from '../framework/registry.js'
import type { Scorer } from '../framework/types.js'

/** More free KV cache scores higher: `1 − kv_cache_usage_perc`. */
export const kvCacheUtilizationScorer: PluginDefinition<Record<string, never>> = {
  type: 'kv-cache-utilization-scorer',
  parameters: z.strictObject({}),
  kinds: ['scorer'],
  create: (name): Scorer => ({
    type: 'kv-cache-utilization-scorer',
    name,
    score: (_cycle, _request, endpoints) => new Map(endpoints.map((e) => [e, 1 - e.metrics.kvCacheUsagePercent])),
  }),
}
