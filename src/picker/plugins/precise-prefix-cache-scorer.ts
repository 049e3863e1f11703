import { z } from 'zod'
import { readPrefixMatch } from '../datalayer/approx-prefix-indexer.js'
import type { PluginDefinition } from '../framework/registry.js'
import type { Scorer } from '../framework/types.js'
import { createPrecisePrefixProducer, precisePrefixParameters, type PrecisePrefixProducer, type PrecisePrefixParams } from './precise-prefix-cache-producer.js'

/**
 * llm-d v0.3's spelling: the precise producer and its scorer in one plugin (deprecated at llm-d HEAD for
 * `precise-prefix-cache-producer` + `prefix-cache-scorer`). Scores matched/total blocks, as HEAD does (#1107).
 */
export const precisePrefixCacheScorer: PluginDefinition<PrecisePrefixParams> = {
  type: 'precise-prefix-cache-scorer',
  parameters: z.strictObject(precisePrefixParameters),
  kinds: ['scorer', 'data-producer', 'pre-request'],
  create: (name, p, ctx): Scorer & PrecisePrefixProducer => {
    const producer = createPrecisePrefixProducer('precise-prefix-cache-scorer', name, p, ctx)
    return {
      ...producer,
      score: (cycle, _request, endpoints) => {
        const info = readPrefixMatch(cycle, name)
        return new Map(endpoints.map((e) => [e, info && info.totalBlocks > 0 ? (info.matchedBlocks.get(e.ref.id) ?? 0) / info.totalBlocks : 0]))
      },
    }
  },
}
