import { z } from 'zod'
import type { EndpointRef } from '../endpoint.js'
import { ApproxPrefixIndexer, resolveIndexerParams, writePrefixMatch, type PrefixMatchInfo } from '../datalayer/approx-prefix-indexer.js'
import { KvBlockIndex } from '../datalayer/kv-block-index.js'
import { KvEventsSubscriber } from '../datalayer/kv-events-subscriber.js'
import { RequestTokens } from '../datalayer/request-tokens.js'
import { durationMs } from '../framework/duration.js'
import type { PluginContext, PluginDefinition } from '../framework/registry.js'
import type { DataProducer, PreRequest, PromptReader } from '../framework/types.js'

const zmqEndpoint = z.string().regex(/^tcp:\/\/[^:]+:\d+$/, 'a ZMQ endpoint such as tcp://*:5557')
const portOf = (endpoint: string) => Number(endpoint.slice(endpoint.lastIndexOf(':') + 1))

/** llm-d's tokenProcessorConfig: the engine's block size and hash seed. */
const tokenProcessorConfig = z.strictObject({
  blockSize: z.number().int().positive().optional(),
  hashSeed: z.string().optional(),
})

/** Parameters of both spellings (llm-d v0.3 `precise-prefix-cache-scorer` nests the indexer settings). */
export const precisePrefixParameters = {
  /** Tokens per KV block, as the engine's --block-size. Default 16. */
  blockSize: z.number().int().positive().optional(),
  /** Root of the picker's block-hash chain. Default "0" (the simulator's default, so keys equal its block hashes). */
  hashSeed: z.string().optional(),
  indexerConfig: z.strictObject({ tokenProcessorConfig: tokenProcessorConfig.optional() }).optional(),
  kvCacheIndexerConfig: z.strictObject({ tokenProcessorConfig: tokenProcessorConfig.optional() }).optional(),
  kvEventsConfig: z
    .strictObject({
      /** The engines' PUB endpoint; an endpoint that does not advertise its own is reached on this port of its host. */
      zmqEndpoint: zmqEndpoint.default('tcp://*:5557'),
      /** The engines' replay ROUTER, likewise; default none (gaps resync instead). */
      replayEndpoint: zmqEndpoint.optional(),
      topicFilter: z.string().default('kv@'),
      /** An endpoint sent requests but silent this long is stale and scored from the approximate index. Default 5s. */
      staleAfter: durationMs.default(5000),
      replayTimeout: durationMs.default(1000),
    })
    .default({ zmqEndpoint: 'tcp://*:5557', topicFilter: 'kv@', staleAfter: 5000, replayTimeout: 1000 }),
  /**
   * Count a request's blocks as held by its target from the moment it is sent, until its events could have arrived
   * (llm-d's speculative indexing): without it a burst sharing a new prefix scatters before the first one is prefilled.
   * Held while the request is in flight (it may wait in the engine's queue longer than the TTL), then for the TTL.
   */
  speculativeIndexing: z.boolean().default(true),
  speculativeTTL: durationMs.default(2000),
}
const parameters = z.strictObject(precisePrefixParameters)
export type PrecisePrefixParams = z.infer<typeof parameters>

export type PrecisePrefixProducer = DataProducer &
  PreRequest &
  PromptReader & {
    readonly index: KvBlockIndex
    readonly subscriber: KvEventsSubscriber
    /** The pool's endpoints changed: subscribe to each one's events. */
    endpointsChanged(refs: readonly EndpointRef[]): void
    endpointRemoved(id: string): void
    prefixIndexSize(): number
    close(): void
  }

/** What produce() leaves for preRequest(): the approximate index's match info and the request's block keys. */
const cycleKey = (name: string) => `precise-prefix/${name}`
interface CycleData {
  readonly rough: PrefixMatchInfo
  readonly keys: readonly string[]
}

/**
 * llm-d's precise prefix cache: the engines' KV events kept in a global block index, the request tokenized and hashed as
 * the engine does, and each endpoint's longest cached prefix written as PrefixCacheMatchInfo. An endpoint the index cannot
 * vouch for (not publishing) is scored from an approximate index kept alongside, as are all while the tokenizer loads.
 */
export function createPrecisePrefixProducer(type: string, name: string, p: PrecisePrefixParams, ctx: PluginContext): PrecisePrefixProducer {
  const processor = p.indexerConfig?.tokenProcessorConfig ?? p.kvCacheIndexerConfig?.tokenProcessorConfig
  const blockSize = p.blockSize ?? processor?.blockSize ?? 16
  const index = new KvBlockIndex(blockSize, p.hashSeed ?? processor?.hashSeed ?? '0')
  const events = p.kvEventsConfig
  const subscriber = new KvEventsSubscriber(index, {
    topicFilter: events.topicFilter,
    defaultPort: portOf(events.zmqEndpoint),
    defaultReplayPort: events.replayEndpoint === undefined ? undefined : portOf(events.replayEndpoint),
    staleAfterMs: events.staleAfter,
    replayTimeoutMs: events.replayTimeout,
    now: ctx.now,
  })
  const approx = new ApproxPrefixIndexer(resolveIndexerParams({ blockSizeTokens: blockSize }))
  const tokens = new RequestTokens()
  return {
    type,
    name,
    index,
    subscriber,
    produce: (cycle, request, endpoints) => {
      const rough = approx.match(request, endpoints)
      const ids = request.body && tokens.tokenIds(request.targetModel, request.body)
      if (!ids) {
        cycle.write<CycleData>(cycleKey(name), { rough, keys: [] })
        return writePrefixMatch(cycle, name, rough)
      }
      const lora = index.loraNames.has(request.targetModel) ? request.targetModel : null
      const keys = index.requestKeys(ids, lora)
      cycle.write<CycleData>(cycleKey(name), { rough, keys })
      const precise = index.longestPrefix(keys, request.now)
      const matchedBlocks = new Map<string, number>()
      for (const e of endpoints) {
        const id = e.ref.id
        const matched = subscriber.isFresh(id, request.now)
          ? precise.get(id)
          : rough.totalBlocks > 0
            ? Math.round(((rough.matchedBlocks.get(id) ?? 0) / rough.totalBlocks) * keys.length)
            : 0
        if (matched) matchedBlocks.set(id, matched)
      }
      const info: PrefixMatchInfo = { hashes: rough.hashes, blockSizeChars: rough.blockSizeChars, blockSizeTokens: blockSize, totalBlocks: keys.length, matchedBlocks }
      writePrefixMatch(cycle, name, info)
    },
    preRequest: (cycle, request, result, mutations) => {
      const data = cycle.read<CycleData>(cycleKey(name))
      approx.record(data?.rough, result)
      for (const run of result.profileResults.values()) {
        const target = run?.targets[0]
        if (!target) continue
        subscriber.expectEvents(target.ref.id, request.now)
        if (!p.speculativeIndexing || !data || data.keys.length === 0) continue
        const id = target.ref.id
        const keys = data.keys
        index.holdPending(id, keys, request.now)
        ;(mutations.afterResponse ??= []).push((now) => index.releasePending(id, keys, now, now + p.speculativeTTL))
      }
    },
    maxPromptChars: () => approx.maxPromptChars(),
    endpointsChanged: (refs) => subscriber.setEndpoints(refs),
    endpointRemoved: (id) => {
      approx.endpointRemoved(id)
      index.removeEndpoint(id)
    },
    prefixIndexSize: () => index.size(),
    close: () => subscriber.close(),
  }
}

export const precisePrefixCacheProducer: PluginDefinition<PrecisePrefixParams> = {
  type: 'precise-prefix-cache-producer',
  parameters,
  kinds: ['data-producer', 'pre-request'],
  create: (name, p, ctx) => createPrecisePrefixProducer('precise-prefix-cache-producer', name, p, ctx),
}
