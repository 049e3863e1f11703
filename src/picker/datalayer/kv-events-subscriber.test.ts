import { encode } from '@msgpack/msgpack'
import { afterEach, describe, expect, it } from 'vitest'
import { Publisher, Router } from 'zeromq'
import type { EndpointRef } from '../endpoint.js'
import { KvBlockIndex } from './kv-block-index.js'
import { KvEventsSubscriber } from './kv-events-subscriber.js'

// The subscriber against real ZMQ sockets on 127.0.0.1: a hand-driven engine that can lose batches on the way.

const BS = 4
const ids = Array.from({ length: 64 }, (_, i) => 100 + i)

/** An engine's publisher: every batch is numbered and kept for replay; `lose` skips sending it live. */
class FakeEngine {
  readonly pub = new Publisher({ linger: 0 })
  readonly router = new Router({ linger: 0 })
  readonly batches: Buffer[] = []
  endpoint = ''
  replayEndpoint = ''
  seq = 0n

  async start(): Promise<this> {
    await this.pub.bind('tcp://127.0.0.1:*')
    await this.router.bind('tcp://127.0.0.1:*')
    this.endpoint = this.pub.lastEndpoint!
    this.replayEndpoint = this.router.lastEndpoint!
    void (async () => {
      try {
        for await (const [client, , start] of this.router) {
          for (let s = Number(start!.readBigUInt64BE()); s < this.batches.length; s++) await this.router.send([client!, '', u64(BigInt(s)), this.batches[s]!])
          await this.router.send([client!, '', Buffer.alloc(8, 0xff), ''])
        }
      } catch {
        // closed
      }
    })()
    return this
  }

  /** Blocks [from, to) of `ids` stored (engine hash of block i = 1000 + i). */
  async store(from: number, to: number, lose = false): Promise<void> {
    const hashes = Array.from({ length: to - from }, (_, i) => BigInt(1000 + from + i))
    const event = ['BlockStored', hashes, from === 0 ? null : BigInt(999 + from), ids.slice(from * BS, to * BS), BS, null, 'GPU', null]
    const payload = Buffer.from(encode([Date.now() / 1000, [event], 0], { useBigInt64: true }))
    this.batches.push(payload)
    const seq = u64(this.seq++)
    if (!lose) await this.pub.send(['kv@test', seq, payload])
  }

  restart(): void {
    this.seq = 0n
    this.batches.length = 0
  }

  close(): void {
    this.pub.close()
    this.router.close()
  }
}

const u64 = (n: bigint) => {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(n)
  return b
}

const open: { close(): void }[] = []
afterEach(() => {
  for (const o of open.splice(0)) o.close()
})

let now = 0
async function setup(withReplay: boolean) {
  const engine = await new FakeEngine().start()
  const index = new KvBlockIndex(BS, '0')
  const errors: string[] = []
  const subscriber = new KvEventsSubscriber(index, { topicFilter: 'kv@', defaultPort: 5557, staleAfterMs: 1000, replayTimeoutMs: 2000, now: () => now, onError: (_id, m) => errors.push(m) })
  open.push(engine, subscriber)
  const ref: EndpointRef = {
    id: 'ns/e1',
    name: 'e1',
    namespace: 'ns',
    address: '127.0.0.1:1',
    url: 'http://127.0.0.1:1',
    labels: {},
    kvEvents: { endpoint: engine.endpoint, ...(withReplay ? { replayEndpoint: engine.replayEndpoint } : {}) },
  }
  subscriber.setEndpoints([ref])
  await sleep(200) // the subscription reaches the publisher
  const held = () => index.longestPrefix(index.requestKeys(ids, null)).get('ns/e1') ?? 0
  return { engine, index, subscriber, held, errors, stats: () => subscriber.stats().get('ns/e1')! }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(10)
  expect(check()).toBe(true)
}

describe('KvEventsSubscriber', () => {
  it('indexes the batches an endpoint publishes, in sequence', async () => {
    const { engine, held, stats, errors } = await setup(false)
    await engine.store(0, 2)
    await engine.store(2, 5)
    await until(() => held() === 5)
    expect(stats()).toMatchObject({ batches: 2, lastSequence: 1n, gaps: 0, resyncs: 0 })
    expect(errors).toEqual([])
  })

  it('resyncs on a sequence gap without a replay endpoint: what it held is forgotten, new chains are indexed', async () => {
    const { engine, held, stats } = await setup(false)
    await engine.store(0, 2)
    await until(() => held() === 2)
    await engine.store(2, 4, true) // lost
    await engine.store(4, 6) // seq 2 after seq 0: a gap; its parent was lost too
    await until(() => stats().gaps === 1)
    expect(stats()).toMatchObject({ resyncs: 1, orphans: 1, lastSequence: 2n })
    expect(held()).toBe(0)
    await engine.store(0, 3)
    await until(() => held() === 3)
  })

  it('repairs a gap by a replay from the engine’s ROUTER', async () => {
    const { engine, held, stats } = await setup(true)
    await engine.store(0, 2)
    await engine.store(2, 4, true) // lost live
    await engine.store(4, 6)
    await until(() => held() === 6)
    expect(stats()).toMatchObject({ gaps: 1, replays: 1, resyncs: 0, orphans: 0, lastSequence: 2n })
  })

  it('catches up from the first buffered batch when it joins late (with replay)', async () => {
    const engine = await new FakeEngine().start()
    open.push(engine)
    await engine.store(0, 3) // before anyone subscribed: lost live
    const index = new KvBlockIndex(BS, '0')
    const subscriber = new KvEventsSubscriber(index, { topicFilter: 'kv@', defaultPort: 5557, staleAfterMs: 1000, replayTimeoutMs: 2000, now: () => now })
    open.push(subscriber)
    subscriber.setEndpoints([{ id: 'e', name: 'e', namespace: 'ns', address: '127.0.0.1:1', url: 'http://127.0.0.1:1', labels: {}, kvEvents: { endpoint: engine.endpoint, replayEndpoint: engine.replayEndpoint } }])
    await sleep(200)
    await engine.store(3, 4)
    await until(() => index.longestPrefix(index.requestKeys(ids, null)).get('e') === 4)
    expect(subscriber.stats().get('e')).toMatchObject({ replays: 1, resyncs: 0 })
  })

  it('forgets everything when the sequence goes back (the engine restarted with an empty cache)', async () => {
    const { engine, held, stats } = await setup(false)
    await engine.store(0, 4)
    await engine.store(4, 5)
    await until(() => held() === 5)
    engine.restart()
    await engine.store(0, 1)
    await until(() => stats().resyncs === 1)
    expect(held()).toBe(1)
  })

  it('marks an endpoint stale once it was sent requests and stayed silent past staleAfter', async () => {
    const { engine, subscriber } = await setup(false)
    now = 10_000
    expect(subscriber.isFresh('ns/e1', now)).toBe(true)
    subscriber.expectEvents('ns/e1', now)
    expect(subscriber.isFresh('ns/e1', now + 1000)).toBe(true)
    expect(subscriber.isFresh('ns/e1', now + 1001)).toBe(false)
    await engine.store(0, 1) // it publishes again
    await until(() => subscriber.isFresh('ns/e1', now + 5000))
    expect(subscriber.isFresh('ns/unknown', now)).toBe(false)
  })

  it('reaches an endpoint that does not advertise its events on the configured port of its host', () => {
    const subscriber = new KvEventsSubscriber(new KvBlockIndex(BS, '0'), { topicFilter: 'kv@', defaultPort: 5557, defaultReplayPort: 5558, staleAfterMs: 1, replayTimeoutMs: 1, now: () => 0 })
    open.push(subscriber)
    subscriber.setEndpoints([{ id: 'x', name: 'x', namespace: 'ns', address: '10.1.2.3:8000', url: 'http://10.1.2.3:8000', labels: {} }])
    expect(subscriber.stats().get('x')?.address).toBe('tcp://10.1.2.3:5557')
  })
})
