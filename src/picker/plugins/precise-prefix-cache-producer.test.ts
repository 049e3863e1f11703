import { parse } from 'yaml'
import { afterEach, describe, expect, it } from 'vitest'
import { loadEndpointPickerConfig } from '../framework/config-loader.js'
import { CycleState } from '../framework/cycle-state.js'
import { readPrefixMatch } from '../datalayer/approx-prefix-indexer.js'
import { loadTokenizer } from '../../sim/tokenizer.js'
import { createPlugin, emptyMutations, makeEndpoint, makeRequest, resultFor } from './contract/fixtures.js'
import { precisePrefixCacheProducer, type PrecisePrefixProducer } from './precise-prefix-cache-producer.js'
import { precisePrefixCacheScorer } from './precise-prefix-cache-scorer.js'
import { prefixCacheScorer } from './prefix-cache-scorer.js'
import type { Scorer } from '../framework/types.js'

const MODEL = 'Qwen/Qwen3-0.6B'
const open: { close(): void }[] = []
afterEach(() => {
  for (const o of open.splice(0)) o.close()
})

const eps = [makeEndpoint('a'), makeEndpoint('b'), makeEndpoint('c')]
const words = (seed: number, n: number) => Array.from({ length: n }, (_, i) => `w${(i * 7919 + seed) % 1000}`).join(' ')

/** A producer subscribed to the three endpoints (nothing listens there: the index is fed by hand) with the tokenizer loaded. */
async function producer(def = precisePrefixCacheProducer, params: unknown = {}): Promise<PrecisePrefixProducer & Partial<Scorer>> {
  const p = createPlugin<PrecisePrefixProducer & Partial<Scorer>>(def, params)
  open.push(p)
  p.endpointsChanged(eps.map((e) => ({ ...e.ref, kvEvents: { endpoint: 'tcp://127.0.0.1:9' } })))
  p.produce(new CycleState(), makeRequest({ targetModel: MODEL, body: { model: MODEL, prompt: 'warm up' } }), eps)
  await loadTokenizer(MODEL)
  await new Promise((r) => setImmediate(r))
  return p
}

/** What the engine of `endpointId` reports after caching the first `blocks` blocks of `ids`. */
function cache(p: PrecisePrefixProducer, endpointId: string, ids: number[], blocks: number) {
  p.index.apply(endpointId, {
    type: 'BlockStored',
    blockHashes: Array.from({ length: blocks }, (_, i) => BigInt(i + 1)),
    parentBlockHash: null,
    tokenIds: ids.slice(0, blocks * 16),
    blockSize: 16,
    loraName: null,
    medium: 'GPU',
  })
}

describe('precise-prefix-cache-producer', () => {
  it('writes each endpoint’s longest cached prefix of the tokenized prompt, which prefix-cache-scorer reads', async () => {
    const p = await producer()
    const prompt = words(1, 100)
    const ids = (await loadTokenizer(MODEL)).encode(prompt)
    const total = Math.floor((ids.length - 1) / 16)
    cache(p, 'default/b', ids, total)
    cache(p, 'default/c', ids, 3)
    const cycle = new CycleState()
    const req = makeRequest({ prompt, targetModel: MODEL, body: { model: MODEL, prompt } })
    p.produce(cycle, req, eps)
    const info = readPrefixMatch(cycle, p.name)!
    expect(info.totalBlocks).toBe(total)
    expect(info.blockSizeTokens).toBe(16)
    expect(info.matchedBlocks).toEqual(new Map([['default/b', total], ['default/c', 3]]))
    const scorer = createPlugin<Scorer>(prefixCacheScorer, {}, [p])
    expect([...scorer.score(cycle, req, eps).values()]).toEqual([0, 1, 3 / total])
  })

  it('falls back to the approximate index for an endpoint that went silent after being sent requests', async () => {
    const p = await producer()
    const prompt = words(2, 200)
    const req = makeRequest({ prompt, targetModel: MODEL, body: { model: MODEL, prompt }, now: 1_000_000 })
    // Sent to a: the approximate index records it; a never publishes anything.
    const first = new CycleState()
    p.produce(first, req, eps)
    const sent = emptyMutations()
    p.preRequest(first, req, resultFor([eps[0]!]), sent)
    for (const done of sent.afterResponse ?? []) done(1_000_500) // answered; its speculative hold ends 2 s later
    const fresh = new CycleState()
    p.produce(fresh, { ...req, now: 1_004_000 }, eps)
    expect(readPrefixMatch(fresh, p.name)!.matchedBlocks.size).toBe(0) // still trusted: its events may be on the way
    const stale = new CycleState()
    p.produce(stale, { ...req, now: 1_006_000 }, eps)
    const info = readPrefixMatch(stale, p.name)!
    expect(info.matchedBlocks.get('default/a')).toBe(info.totalBlocks)
  })

  it('counts a request’s blocks on its target from the moment it is sent, before the engine reports them (speculative)', async () => {
    const prompt = words(4, 200)
    const burst = (p: PrecisePrefixProducer, now: number) => {
      const cycle = new CycleState()
      p.produce(cycle, makeRequest({ prompt, targetModel: MODEL, body: { model: MODEL, prompt }, now }), eps)
      return readPrefixMatch(cycle, p.name)!
    }
    const speculative = await producer()
    const first = new CycleState()
    const req = makeRequest({ prompt, targetModel: MODEL, body: { model: MODEL, prompt }, now: 1_000_000 })
    speculative.produce(first, req, eps)
    const sent = emptyMutations()
    speculative.preRequest(first, req, resultFor([eps[1]!]), sent)
    // The second request of the burst, 100 ms later: b has not prefilled the first yet, but it will hold the prompt.
    const next = burst(speculative, 1_000_100)
    expect(next.matchedBlocks).toEqual(new Map([['default/b', next.totalBlocks]]))
    // Still in flight past the TTL (queued in the engine): still held.
    expect(burst(speculative, 1_002_500).matchedBlocks).toEqual(new Map([['default/b', next.totalBlocks]]))
    for (const done of sent.afterResponse ?? []) done(1_002_600)
    expect(burst(speculative, 1_004_500).matchedBlocks.size).toBe(1)
    expect(burst(speculative, 1_004_600).matchedBlocks.size).toBe(0) // speculativeTTL (2s) after the answer, with no event
    const off = await producer(precisePrefixCacheProducer, { speculativeIndexing: false })
    const offCycle = new CycleState()
    off.produce(offCycle, req, eps)
    off.preRequest(offCycle, req, resultFor([eps[1]!]), emptyMutations())
    expect(burst(off, 1_000_100).matchedBlocks.size).toBe(0)
  })

  it('in its older scorer spelling scores matched/total itself, reading llm-d v0.3’s nested indexer settings', async () => {
    const p = await producer(precisePrefixCacheScorer, { indexerConfig: { tokenProcessorConfig: { blockSize: 16, hashSeed: '0' } }, kvEventsConfig: { zmqEndpoint: 'tcp://*:5557' } })
    const prompt = words(3, 100)
    const ids = (await loadTokenizer(MODEL)).encode(prompt)
    cache(p, 'default/a', ids, 2)
    const cycle = new CycleState()
    const req = makeRequest({ prompt, targetModel: MODEL, body: { model: MODEL, prompt } })
    p.produce(cycle, req, eps)
    const total = Math.floor((ids.length - 1) / 16)
    expect([...p.score!(cycle, req, eps).values()]).toEqual([2 / total, 0, 0])
  })

  it('has its parameters checked by the config loader, errors located', () => {
    const { errors } = loadEndpointPickerConfig(
      parse(`
plugins:
- type: precise-prefix-cache-producer
  parameters: {blockSize: 0, kvEventsConfig: {zmqEndpoint: 'localhost:5557', topicFilters: 'kv@'}}
- type: precise-prefix-cache-scorer
  parameters: {indexerConfig: {tokenProcessorConfig: {hashSeed: 12}}}
`),
    )
    expect(errors.map((e) => e.path)).toEqual([
      'plugins[0].parameters.blockSize',
      'plugins[0].parameters.kvEventsConfig.zmqEndpoint',
      'plugins[0].parameters.kvEventsConfig.topicFilters',
      'plugins[1].parameters.indexerConfig.tokenProcessorConfig.hashSeed',
    ])
  })
})
