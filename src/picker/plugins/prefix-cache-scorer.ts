import { z } from 'zod'
import { ApproxPrefixIndexer, readPrefixMatch, resolveIndexerParams } from '../datalayer/approx-prefix-indexer.js'
import type { PluginDefinition } from '../framework/registry.js'
import type { DataProducer, PreRequest, PromptReader, Scorer } from '../framework/types.js'
import { createPrefixProducer } from './approx-prefix-cache-producer.js'
import { prefixIndexerParameters } from './prefix-params.js'

const parameters = z.strictObject({
  ...prefixIndexerParameters,
  matchLengthWeight: z.number().min(0).max(1).default(0),
  matchLengthScaleTokens: z.number().positive().default(8192),
  prefixMatchInfoProducerName: z.string().min(1).optional(),
})
type Params = z.infer<typeof parameters>

const PRODUCER_TYPES = new Set(['approx-prefix-cache-producer', 'precise-prefix-cache-producer'])

/**
 * `w·min(1, matchedTokens/scale)² + (1−w)·matched/total` (0 when the prompt is shorter than a block).
 * Two forms, one code path: it reads the match info of a producer plugin when the config has one
 * (GIE v1.5 / llm-d HEAD), and otherwise owns its own index (GIE v1.0–1.3, and the default config).
 */
export const prefixCacheScorer: PluginDefinition<Params> = {
  type: 'prefix-cache-scorer',
  parameters,
  kinds: ['scorer', 'data-producer', 'pre-request'],
  references: (p) =>
    p.prefixMatchInfoProducerName ? [{ path: 'prefixMatchInfoProducerName', name: p.prefixMatchInfoProducerName, kind: 'data-producer' }] : [],
  create: (name, p, ctx): Scorer & DataProducer & PreRequest & PromptReader & { endpointRemoved(id: string): void; prefixIndexSize(): number } => {
    const own = createPrefixProducer('prefix-cache-scorer', name, new ApproxPrefixIndexer(resolveIndexerParams(p)))
    let source: string | undefined | null = null // null: not resolved yet
    const producerName = () => {
      if (source === null) {
        source = p.prefixMatchInfoProducerName ?? ctx.plugins().find((q) => PRODUCER_TYPES.has(q.type))?.name
      }
      return source
    }
    return {
      type: 'prefix-cache-scorer',
      name,
      produce: (cycle, request, endpoints) => {
        if (producerName() === undefined) own.produce(cycle, request, endpoints)
      },
      preRequest: (cycle, request, result, mutations) => {
        if (producerName() === undefined) own.preRequest(cycle, request, result, mutations)
      },
      endpointRemoved: (id) => own.endpointRemoved(id),
      prefixIndexSize: () => own.indexer.index.size(),
      maxPromptChars: () => (producerName() === undefined ? own.maxPromptChars() : 0),
      score: (cycle, _request, endpoints) => {
        const info = readPrefixMatch(cycle, producerName() ?? name)
        const w = p.matchLengthWeight
        return new Map(
          endpoints.map((e) => {
            if (!info || info.totalBlocks === 0) return [e, 0]
            const matched = info.matchedBlocks.get(e.ref.id) ?? 0
            const lengthTerm = Math.min(1, (matched * info.blockSizeTokens) / p.matchLengthScaleTokens) ** 2
            return [e, w * lengthTerm + (1 - w) * (matched / info.totalBlocks)]
          }),
        )
      },
    }
  },
}
