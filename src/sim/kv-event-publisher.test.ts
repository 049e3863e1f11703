import { decode } from '@msgpack/msgpack'
import { afterEach, describe, expect, it } from 'vitest'
import { Dealer, Subscriber } from 'zeromq'
import { hashBlock, rootHash } from './block-hash.js'
import { END_SEQ, eventBlockHash, offsetEndpoint } from './kv-event-publisher.js'
import type { SimOptions } from './sim-options.js'
import { startSimulator, type RunningSimulator } from './start-simulator.js'
import { loadTokenizer } from './tokenizer.js'

// vLLM's KV events as the simulator publishes them, read with a raw ZMQ SUB socket on 127.0.0.1.

const open: { close(): unknown }[] = []
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close()
})

const MODEL = 'Qwen/Qwen3-0.6B'

async function sim(options: SimOptions): Promise<RunningSimulator & { kvEvents: { endpoint: string; replayEndpoint?: string } }> {
  const s = await startSimulator({ port: 0, timeScale: 50, model: MODEL, ...options })
  open.push(s)
  if (!s.kvEvents) throw new Error('no KV events endpoint')
  return s as RunningSimulator & { kvEvents: { endpoint: string } }
}

async function subscribe(endpoint: string): Promise<Subscriber> {
  const sub = new Subscriber({ linger: 0, receiveTimeout: 5000 })
  open.push(sub)
  sub.connect(endpoint)
  sub.subscribe('kv@')
  // PUB/SUB has no handshake: give the subscription time to reach the publisher before anything is published.
  await new Promise((r) => setTimeout(r, 200))
  return sub
}

async function complete(s: RunningSimulator, prompt: string, maxTokens = 2) {
  const res = await fetch(`${s.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, prompt, max_tokens: maxTokens, ignore_eos: true }),
  })
  expect(res.status).toBe(200)
  await res.json()
}

type Frames = { topic: string; seq: bigint; batch: any }
async function next(sub: Subscriber): Promise<Frames> {
  const [topic, seq, payload] = await sub.receive()
  expect(seq!.length).toBe(8)
  return { topic: topic!.toString(), seq: seq!.readBigUInt64BE(), batch: decode(payload!, { useBigInt64: true }) }
}

/** Reads batches until `done` says enough (or the receive timeout fails the test). */
async function collect(sub: Subscriber, done: (events: any[]) => boolean): Promise<Frames[]> {
  const got: Frames[] = []
  while (!done(got.flatMap((f) => f.batch[1] ?? f.batch.events))) got.push(await next(sub))
  return got
}

const text = (seed: number, words: number) => Array.from({ length: words }, (_, i) => `w${(i * 7919 + seed) % 1000}`).join(' ')

describe('KV events publisher', () => {
  it("publishes a step's stores as one tagged, positional KVEventBatch with vLLM's frames and 64-bit block hashes", async () => {
    const s = await sim({ kvEvents: { endpoint: 'tcp://127.0.0.1:*' } })
    expect(s.kvEvents.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)
    const sub = await subscribe(s.kvEvents.endpoint)
    const prompt = text(1, 200)
    await complete(s, prompt)
    const [first, ...rest] = await collect(sub, (events) => events.some((e) => e[0] === 'BlockStored'))
    expect(first!.topic).toBe(`kv@127.0.0.1:${s.port}@${MODEL}`)
    expect([first!.seq, ...rest.map((f) => f.seq)]).toEqual([0n, ...rest.map((_, i) => BigInt(i + 1))])
    const [ts, events, rank] = first!.batch
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(5)
    expect(rank).toBe(0)
    const stored = events[0]
    expect(stored[0]).toBe('BlockStored')
    const [, hashes, parent, tokenIds, blockSize, loraId, medium, loraName] = stored
    expect([parent, blockSize, loraId, medium, loraName]).toEqual([null, 16, null, 'GPU', null])
    // The engine's hashes, from the prompt's real token ids: the low 64 bits of each SHA-256 chain link.
    const ids = (await loadTokenizer(MODEL)).encode(prompt)
    const full = Math.floor(ids.length / 16)
    expect(tokenIds).toEqual(ids.slice(0, full * 16))
    let h = rootHash('0')
    const expected = Array.from({ length: full }, (_, i) => eventBlockHash((h = hashBlock(h, ids, i * 16, (i + 1) * 16, null))))
    expect(hashes).toEqual(expected)
  })

  it('reports evictions as BlockRemoved of the stored hashes, and a reset as AllBlocksCleared', async () => {
    // 40 usable blocks: two ≈ 470-token prompts (≈ 30 blocks each) cannot both stay cached.
    const s = await sim({ numGpuBlocks: 41, kvEvents: { endpoint: 'tcp://127.0.0.1:*' } })
    const sub = await subscribe(s.kvEvents.endpoint)
    await complete(s, text(1, 120))
    await complete(s, text(2, 120))
    const frames = await collect(sub, (events) => events.some((e) => e[0] === 'BlockRemoved'))
    const events = frames.flatMap((f) => f.batch[1])
    const stored = new Set(events.filter((e) => e[0] === 'BlockStored').flatMap((e) => e[1]))
    const removed = events.filter((e) => e[0] === 'BlockRemoved')
    expect(removed[0]).toEqual(['BlockRemoved', [expect.any(BigInt)], 'GPU'])
    for (const e of removed) for (const h of e[1]) expect(stored.has(h)).toBe(true)

    const reset = await fetch(`${s.url}/reset_prefix_cache`, { method: 'POST' })
    expect(reset.status).toBe(200)
    const cleared = await collect(sub, (all) => all.some((e) => e[0] === 'AllBlocksCleared'))
    expect(cleared.at(-1)!.batch[1]).toContainEqual(['AllBlocksCleared'])
  })

  it('writes named maps with a type tag when asked (the map event format)', async () => {
    const s = await sim({ kvEvents: { endpoint: 'tcp://127.0.0.1:*', mapFormat: true, topic: 'kv@custom' } })
    const sub = await subscribe(s.kvEvents.endpoint)
    await complete(s, text(3, 100))
    const [f] = await collect(sub, (events) => events.length > 0)
    expect(f!.topic).toBe('kv@custom')
    expect(f!.batch).toMatchObject({ ts: expect.any(Number), data_parallel_rank: 0 })
    expect(f!.batch.events[0]).toMatchObject({ type: 'BlockStored', parent_block_hash: null, block_size: 16, medium: 'GPU', lora_name: null })
  })

  it('replays buffered batches from a requested sequence over its ROUTER, ending with sequence -1', async () => {
    const s = await sim({ kvEvents: { endpoint: 'tcp://127.0.0.1:*', replayEndpoint: 'tcp://127.0.0.1:*', bufferSteps: 3 } })
    const sub = await subscribe(s.kvEvents.endpoint)
    for (let i = 0; i < 3; i++) await complete(s, text(10 + i, 100), 1)
    const live = await collect(sub, (events) => events.filter((e) => e[0] === 'BlockStored').length >= 3)
    const dealer = new Dealer({ linger: 0, receiveTimeout: 5000 })
    open.push(dealer)
    dealer.connect(s.kvEvents.replayEndpoint!)
    const start = Buffer.alloc(8)
    start.writeBigUInt64BE(1n)
    await dealer.send(['', start])
    const replayed: bigint[] = []
    for (;;) {
      const [empty, seq, payload] = await dealer.receive()
      expect(empty!.length).toBe(0)
      if (seq!.equals(END_SEQ)) break
      replayed.push(seq!.readBigUInt64BE())
      expect(decode(payload!, { useBigInt64: true })).toEqual(live.find((f) => f.seq === seq!.readBigUInt64BE())?.batch)
    }
    // Sequences 1.. that are still among the last 3 batches.
    const last = live.at(-1)!.seq
    const first = last - 2n > 1n ? last - 2n : 1n
    expect(replayed).toEqual(Array.from({ length: Number(last - first + 1n) }, (_, i) => first + BigInt(i)))
  })

  it("offsets the port by the data-parallel rank, as vLLM does", () => {
    expect(offsetEndpoint('tcp://*:5557', 0)).toBe('tcp://*:5557')
    expect(offsetEndpoint('tcp://*:5557', 3)).toBe('tcp://*:5560')
    expect(offsetEndpoint('tcp://127.0.0.1:*', 2)).toBe('tcp://127.0.0.1:*')
  })
})
