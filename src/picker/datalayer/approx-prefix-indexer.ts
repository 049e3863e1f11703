import type { CycleState } from '../framework/cycle-state.js'
import type { Endpoint, SchedulingRequest, SchedulingResult } from '../framework/types.js'
import { hashPromptBlocks } from './prefix-hasher.js'
import { PrefixIndex } from './prefix-index.js'

/** GIE's estimate: 4 bytes of prompt per token. */
export const CHARS_PER_TOKEN = 4

export interface PrefixIndexerParams {
  readonly blockSizeChars: number
  /** Cap on hashed blocks (`maxPrefixBlocksToMatch`, or `maxPrefixTokensToMatch` converted). */
  readonly maxBlocks: number
  readonly lruCapacityPerServer: number
  /** Take block size and per-endpoint capacity from `vllm:cache_config_info` when scraped. */
  readonly autoTune: boolean
}

/** What the approximate prefix producer leaves in the cycle state (llm-d's `PrefixCacheMatchInfo`). */
export interface PrefixMatchInfo {
  readonly hashes: readonly number[]
  readonly blockSizeChars: number
  readonly blockSizeTokens: number
  readonly totalBlocks: number
  /** Matched blocks per endpoint id; absent = 0. */
  readonly matchedBlocks: ReadonlyMap<string, number>
}

const KEY = 'prefix-match'
/** Cycle-state keys per producer name, made once (they are read and written on every request). */
const producerKeys = new Map<string, string>()
const keyOf = (producerName: string) => producerKeys.get(producerName) ?? producerKeys.set(producerName, `${KEY}/${producerName}`).get(producerName)!

export function writePrefixMatch(cycle: CycleState, producerName: string, info: PrefixMatchInfo): void {
  cycle.write(keyOf(producerName), info)
  cycle.write(KEY, info)
}

/** The match info of a named producer, or of whichever producer ran when no name is given. */
export function readPrefixMatch(cycle: CycleState, producerName?: string): PrefixMatchInfo | undefined {
  return cycle.read<PrefixMatchInfo>(producerName ? keyOf(producerName) : KEY)
}

/**
 * The approximate prefix cache of GIE/llm-d: hashes each request's prompt into chained blocks, matches
 * them against what was sent where, and records the blocks for the chosen endpoints at scheduling time
 * (before any response), so a burst of same-prefix requests lands together.
 */
export class ApproxPrefixIndexer {
  readonly index: PrefixIndex
  #blockSizeChars: number

  constructor(readonly params: PrefixIndexerParams) {
    this.index = new PrefixIndex(params.lruCapacityPerServer)
    this.#blockSizeChars = params.blockSizeChars
  }

  match(request: SchedulingRequest, endpoints: readonly Endpoint[]): PrefixMatchInfo {
    if (this.params.autoTune) this.#autoTune(endpoints)
    const size = this.#blockSizeChars
    const salt = typeof request.body?.cache_salt === 'string' ? request.body.cache_salt : ''
    const hashes = hashPromptBlocks(request.targetModel, salt, request.prompt, { blockSizeChars: size, maxBlocks: this.params.maxBlocks })
    return {
      hashes,
      blockSizeChars: size,
      blockSizeTokens: size / CHARS_PER_TOKEN,
      totalBlocks: hashes.length,
      matchedBlocks: hashes.length > 0 ? this.index.match(hashes) : new Map(),
    }
  }

  /** Adds the request's blocks for the first target of every profile that ran (decode/primary and prefill). */
  record(info: PrefixMatchInfo | undefined, result: SchedulingResult): void {
    if (!info || info.hashes.length === 0) return
    for (const run of result.profileResults.values()) {
      const target = run?.targets[0]
      if (target) this.index.add(target.ref.id, info.hashes)
    }
  }

  /** Characters of prompt text hashing can read (the block cap); autoTune may change it after a scrape. */
  maxPromptChars(): number {
    return this.#blockSizeChars * this.params.maxBlocks
  }

  endpointRemoved(endpointId: string): void {
    this.index.removeEndpoint(endpointId)
  }

  #autoTune(endpoints: readonly Endpoint[]): void {
    for (const e of endpoints) {
      const { blockSize, numGpuBlocks } = e.metrics
      if (blockSize) this.#blockSizeChars = blockSize * CHARS_PER_TOKEN
      if (numGpuBlocks) this.index.setCapacity(e.ref.id, numGpuBlocks)
    }
  }
}

/** Parameters every version of the prefix plugins accepted, resolved to one indexer setting. */
export function resolveIndexerParams(p: {
  hashBlockSize?: number | undefined
  blockSize?: number | undefined
  blockSizeTokens?: number | undefined
  maxPrefixBlocksToMatch?: number | undefined
  maxPrefixTokensToMatch?: number | undefined
  lruCapacityPerServer?: number | undefined
  autoTune?: boolean | undefined
}): PrefixIndexerParams {
  // GIE v1.0 `hashBlockSize` and v1.1–1.3 `blockSize` are chars; v1.4+ `blockSizeTokens` is tokens (default 16).
  const blockSizeChars = p.hashBlockSize ?? p.blockSize ?? (p.blockSizeTokens ?? 16) * CHARS_PER_TOKEN
  const explicitSize = p.hashBlockSize !== undefined || p.blockSize !== undefined || p.blockSizeTokens !== undefined
  const maxBlocks = p.maxPrefixTokensToMatch
    ? Math.max(1, Math.floor((p.maxPrefixTokensToMatch * CHARS_PER_TOKEN) / blockSizeChars))
    : (p.maxPrefixBlocksToMatch ?? 256)
  return {
    blockSizeChars,
    maxBlocks,
    lruCapacityPerServer: p.lruCapacityPerServer ?? 31250,
    // An explicit block size wins over the engine's unless autoTune is asked for explicitly.
    autoTune: p.autoTune ?? !explicitSize,
  }
}
