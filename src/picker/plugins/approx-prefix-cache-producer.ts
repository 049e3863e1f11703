import { z } from 'zod'
import { ApproxPrefixIndexer, readPrefixMatch, resolveIndexerParams, writePrefixMatch } from '../datalayer/approx-prefix-indexer.js'
import type { PluginDefinition } from '../framework/registry.js'
import type { DataProducer, PreRequest, PromptReader } from '../framework/types.js'
import { prefixIndexerParameters } from './prefix-params.js'

const parameters = z.strictObject(prefixIndexerParameters)

export type PrefixProducer = DataProducer & PreRequest & { readonly indexer: ApproxPrefixIndexer; endpointRemoved(id: string): void; prefixIndexSize(): number } & PromptReader

/** The producer half of GIE v1.4+/llm-d's approximate prefix cache: writes PrefixCacheMatchInfo, indexes at PreRequest. */
export function createPrefixProducer(type: string, name: string, indexer: ApproxPrefixIndexer): PrefixProducer {
  return {
    type,
    name,
    indexer,
    produce: (cycle, request, endpoints) => writePrefixMatch(cycle, name, indexer.match(request, endpoints)),
    preRequest: (cycle, _request, result) => indexer.record(readPrefixMatch(cycle, name), result),
    endpointRemoved: (id) => indexer.endpointRemoved(id),
    prefixIndexSize: () => indexer.index.size(),
    maxPromptChars: () => indexer.maxPromptChars(),
  }
}

export const approxPrefixCacheProducer: PluginDefinition<z.infer<typeof parameters>> = {
  type: 'approx-prefix-cache-producer',
  parameters,
  kinds: ['data-producer', 'pre-request'],
  create: (name, p) => createPrefixProducer('approx-prefix-cache-producer', name, new ApproxPrefixIndexer(resolveIndexerParams(p))),
}
