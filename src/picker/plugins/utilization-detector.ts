import { z } from 'zod'
import { durationMs } from '../framework/duration.js'
import type { PluginDefinition } from '../framework/registry.js'
import type { Endpoint, Filter, SaturationDetector } from '../framework/types.js'

const parameters = z.strictObject({
  queueDepthThreshold: z.number().int().positive().default(5),
  kvCacheUtilThreshold: z.number().positive().max(1).default(0.8),
  metricsStalenessThreshold: durationMs.default(200),
  headroom: z.number().nonnegative().default(0),
})
type Params = z.infer<typeof parameters>

/**
 * llm-d HEAD's saturation detector. Per endpoint `max(q/queueDepthThreshold, kv/kvCacheUtilThreshold)`, stale
 * metrics count as 1.0 (fail-closed); the pool's saturation is the mean, and sheddable requests are dropped at ≥ 1.
 * As a filter it drops stale endpoints and those over `1 + headroom`, keeping all if that would drop everything.
 */
export const utilizationDetector: PluginDefinition<Params> = {
  type: 'utilization-detector',
  parameters,
  kinds: ['saturation-detector', 'filter'],
  create: (name, p): SaturationDetector & Filter => {
    const endpointScore = (e: Endpoint, now: number) =>
      now - e.metrics.updatedAt > p.metricsStalenessThreshold
        ? 1
        : Math.max(e.metrics.waitingQueueSize / p.queueDepthThreshold, e.metrics.kvCacheUsagePercent / p.kvCacheUtilThreshold)
    return {
      type: 'utilization-detector',
      name,
      saturation: (endpoints, now) =>
        endpoints.length === 0 ? 1 : endpoints.reduce((sum, e) => sum + endpointScore(e, now), 0) / endpoints.length,
      filter: (_cycle, request, endpoints) => {
        const kept = endpoints.filter(
          (e) => request.now - e.metrics.updatedAt <= p.metricsStalenessThreshold && endpointScore(e, request.now) <= 1 + p.headroom,
        )
        return kept.length > 0 ? kept : endpoints
      },
    }
  },
}
