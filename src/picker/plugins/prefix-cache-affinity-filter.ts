import { z } from 'zod'
import { readPrefixMatch } from '../datalayer/approx-prefix-indexer.js'
import type { PluginDefinition } from '../framework/registry.js'
import type { Endpoint, Filter } from '../framework/types.js'

const parameters = z.strictObject({
  affinityThreshold: z.number().min(0).max(1).default(0.8),
  explorationProbability: z.number().min(0).max(1).default(0),
  maxTTFTPenaltyMs: z.number().nonnegative().default(18000),
  // The latency predictor is a separate llm-d service; only the throughput estimate is implemented.
  ttftSource: z.literal('prefillThroughput').default('prefillThroughput'),
  peakPrefillThroughput: z.number().positive().default(15928),
  prefixPluginName: z.string().min(1).optional(),
})
type Params = z.infer<typeof parameters>

/**
 * llm-d HEAD ("sticky until saturated"): keeps endpoints whose prefix score (matched/total blocks) reaches
 * `affinityThreshold`; keeps all when none does, with probability `explorationProbability`, or when the best
 * sticky endpoint's estimated TTFT (`inFlightTokens/peakPrefillThroughput`) exceeds the best other one's by
 * more than `maxTTFTPenaltyMs`.
 */
export const prefixCacheAffinityFilter: PluginDefinition<Params> = {
  type: 'prefix-cache-affinity-filter',
  parameters,
  kinds: ['filter'],
  references: (p) => (p.prefixPluginName ? [{ path: 'prefixPluginName', name: p.prefixPluginName, kind: 'data-producer' }] : []),
  create: (name, p): Filter => ({
    type: 'prefix-cache-affinity-filter',
    name,
    filter: (cycle, request, endpoints) => {
      const info = readPrefixMatch(cycle, p.prefixPluginName) ?? readPrefixMatch(cycle)
      if (!info || info.totalBlocks === 0) return endpoints
      if (p.explorationProbability > 0 && request.random() < p.explorationProbability) return endpoints
      const sticky: Endpoint[] = []
      const others: Endpoint[] = []
      for (const e of endpoints) {
        const score = (info.matchedBlocks.get(e.ref.id) ?? 0) / info.totalBlocks
        ;(score >= p.affinityThreshold ? sticky : others).push(e)
      }
      if (sticky.length === 0) return endpoints
      if (others.length === 0) return sticky
      const ttft = (list: Endpoint[]) => Math.min(...list.map((e) => (e.inFlightTokens / p.peakPrefillThroughput) * 1000))
      return ttft(sticky) - ttft(others) > p.maxTTFTPenaltyMs ? endpoints : sticky
    },
  }),
}
