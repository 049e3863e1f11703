import { createServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { Registry } from 'prom-client'
import { generate } from 'selfsigned'
import { afterEach, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import type { EndpointRef } from './endpoint.js'
import type { EndpointPicker, PickRequest } from './endpoint-picker.js'
import { createInProcessPicker, promptText } from './in-process-picker.js'
import { seededRandom } from './plugins/contract/fixtures.js'

interface FakeServer {
  waiting: number
  kv: number
  status: number
}

/** Model-server stand-ins on 127.0.0.1 exposing vLLM metric names. */
async function startServers(n: number, cleanups: (() => unknown)[]) {
  const states: FakeServer[] = []
  const refs: EndpointRef[] = []
  for (let i = 0; i < n; i++) {
    const state: FakeServer = { waiting: 0, kv: 0, status: 200 }
    const server: Server = createServer((_req, res) => {
      res.writeHead(state.status, { 'content-type': 'text/plain' })
      res.end(`vllm:num_requests_waiting{model_name="m"} ${state.waiting}\nvllm:num_requests_running{model_name="m"} 0\nvllm:kv_cache_usage_perc{model_name="m"} ${state.kv}\n`)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    cleanups.push(() => new Promise((r) => server.close(r)))
    const { port } = server.address() as AddressInfo
    states.push(state)
    refs.push({ id: `ns/pod-${i}`, name: `pod-${i}`, namespace: 'ns', address: `127.0.0.1:${port}`, url: `http://127.0.0.1:${port}`, labels: {} })
  }
  return { states, refs }
}

const req = (body: Record<string, unknown> | undefined, headers: Record<string, string> = {}, requestId = 'r'): PickRequest => ({ requestId, path: '/v1/completions', headers, body })
const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('createInProcessPicker', () => {
  const cleanups: (() => unknown)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })
  const picker = (opts: Partial<Parameters<typeof createInProcessPicker>[0]> = {}): EndpointPicker => {
    const p = createInProcessPicker({ config: undefined, poolName: 'pool', scrapeIntervalMs: 20, random: seededRandom(1), ...opts })
    cleanups.push(() => p.close())
    return p
  }

  it('picks the least loaded endpoint from scraped metrics and explains it', async () => {
    const { states, refs } = await startServers(3, cleanups)
    states[0]!.waiting = 5
    states[1]!.kv = 0.9
    const p = picker()
    p.setEndpoints(refs)
    const d = await p.pick(req({ model: 'm', prompt: 'hello' }), { explain: true })
    expect(d.endpoint.id).toBe('ns/pod-2')
    expect(d.profiles).toEqual(['default'])
    expect(d.explain!.find((r) => r.picked)).toMatchObject({ endpoint: 'ns/pod-2', total: 2 * 1 + 2 * 1 + 0 })
    expect(d.explain).toHaveLength(3)
  })

  it('routes a shared prefix to one endpoint', async () => {
    const { refs } = await startServers(4, cleanups)
    const p = picker()
    p.setEndpoints(refs)
    const system = 'You are a support agent for ACME. Answer briefly. '.repeat(20)
    const picks = new Set<string>()
    for (let i = 0; i < 10; i++) {
      const d = await p.pick(req({ model: 'm', messages: [{ role: 'system', content: system }, { role: 'user', content: `question ${i}` }] }, {}, `r${i}`))
      picks.add(d.endpoint.id)
      p.complete({ decision: d, requestId: `r${i}`, endpoint: d.endpoint, status: 200 })
    }
    expect(picks.size).toBe(1)
  })

  it('rejects a body without model (400) and an empty pool (503)', async () => {
    const p = picker()
    await expect(async () => p.pick(req({ prompt: 'x' }))).rejects.toMatchObject({ status: 400 })
    await expect(async () => p.pick(req({ model: 'm', prompt: 'x' }))).rejects.toMatchObject({ status: 503, code: 'rejected-no-endpoints' })
  })

  it('waits only for the first scrape; after it, picks and refusals are synchronous (no promise per request)', async () => {
    const { refs } = await startServers(1, cleanups)
    const p = picker()
    p.setEndpoints(refs)
    const first = p.pick(req({ model: 'm', prompt: 'x' }))
    expect(first).toBeInstanceOf(Promise)
    expect((await first).endpoint.id).toBe('ns/pod-0')
    const next = p.pick(req({ model: 'm', prompt: 'y' }))
    expect(next).not.toBeInstanceOf(Promise)
    expect((next as Awaited<typeof next>).endpoint.id).toBe('ns/pod-0')
    expect(() => p.pick(req({ prompt: 'x' }))).toThrow(expect.objectContaining({ status: 400 }))
  })

  it('skips endpoints whose scrape fails and takes them back when healthy', async () => {
    const { states, refs } = await startServers(2, cleanups)
    const p = picker()
    p.setEndpoints(refs)
    await p.pick(req({ model: 'm', prompt: 'x' }))
    states[0]!.status = 503
    await until(() => p.endpointStates().find((s) => s.endpoint.id === 'ns/pod-0')!.healthy === false)
    for (let i = 0; i < 10; i++) expect((await p.pick(req({ model: 'm', prompt: `x${i}` }))).endpoint.id).toBe('ns/pod-1')
    states[1]!.status = 503
    await until(() => p.endpointStates().every((s) => !s.healthy))
    await expect(async () => p.pick(req({ model: 'm', prompt: 'x' }))).rejects.toMatchObject({ status: 503 })
    states[0]!.status = 200
    await until(() => p.endpointStates().some((s) => s.healthy))
    expect((await p.pick(req({ model: 'm', prompt: 'y' }))).endpoint.id).toBe('ns/pod-0')
  })

  it('sheds sheddable requests with 429 when the pool is saturated, never the others', async () => {
    const { states, refs } = await startServers(2, cleanups)
    const p = picker({ objectives: { batch: -1, chat: 10 } })
    p.setEndpoints(refs)
    await p.pick(req({ model: 'm', prompt: 'x' }))
    const sheddable = { 'x-gateway-inference-objective': 'batch' }
    expect((await p.pick(req({ model: 'm', prompt: 'x' }, sheddable))).endpoint).toBeDefined()
    for (const s of states) s.waiting = 8
    await until(() => p.endpointStates().every((s) => s.metrics?.waitingQueueSize === 8))
    await expect(async () => p.pick(req({ model: 'm', prompt: 'x' }, sheddable))).rejects.toMatchObject({ status: 429, message: 'system saturated, sheddable request dropped' })
    expect(await p.pick(req({ model: 'm', prompt: 'x' }, { 'x-gateway-inference-objective': 'chat' }))).toBeDefined()
    expect(await p.pick(req({ model: 'm', prompt: 'x' }))).toBeDefined()
  })

  it('honours a subset hint and sends header-only requests to a random endpoint', async () => {
    const { refs } = await startServers(3, cleanups)
    const p = picker()
    p.setEndpoints(refs)
    expect((await p.pick(req({ model: 'm', prompt: 'x' }), { subset: [refs[1]!.address] })).endpoint.id).toBe('ns/pod-1')
    await expect(async () => p.pick(req({ model: 'm', prompt: 'x' }), { subset: ['10.9.9.9:1'] })).rejects.toMatchObject({ status: 503 })
    const d = await p.pick(req(undefined))
    expect(refs.map((r) => r.id)).toContain(d.endpoint.id)
    expect(d.profiles).toEqual([])
  })

  it('tracks in-flight load until complete() (token-load-scorer)', async () => {
    const { refs } = await startServers(2, cleanups)
    const config = parse('plugins: [{type: token-load-scorer, parameters: {queueThresholdTokens: 100}}]')
    const p = picker({ config })
    p.setEndpoints(refs)
    const big = 'x'.repeat(400) // 100 tokens
    const a = await p.pick(req({ model: 'm', prompt: big }, {}, 'a'))
    const b = await p.pick(req({ model: 'm', prompt: big }, {}, 'b'))
    expect(b.endpoint.id).not.toBe(a.endpoint.id)
    p.complete({ decision: a, requestId: 'a', endpoint: a.endpoint, status: 200 })
    const c = await p.pick(req({ model: 'm', prompt: big }, {}, 'c'))
    expect(c.endpoint.id).toBe(a.endpoint.id)
  })

  it('runs the work its plugins left for the end of the response when complete() comes', async () => {
    const { refs } = await startServers(1, cleanups)
    const p = picker({ now: () => 42 })
    p.setEndpoints(refs)
    const d = await p.pick(req({ model: 'm', prompt: 'x' }, {}, 'a'))
    const ran: number[] = []
    p.complete({ decision: { ...d, afterResponse: [(now) => ran.push(now)] }, requestId: 'a', endpoint: d.endpoint, status: 200 })
    expect(ran).toEqual([42])
  })

  it('returns fallbacks, P/D headers and header removals', async () => {
    const { refs } = await startServers(3, cleanups)
    const labelled = refs.map((r, i) => ({ ...r, labels: { 'llm-d.ai/role': i === 0 ? 'prefill' : 'decode' } }))
    const p = picker({ config: parse(`
plugins:
- {type: prefill-header-handler}
- {type: prefill-filter}
- {type: decode-filter}
- {type: max-score-picker, parameters: {maxNumOfEndpoints: 2}}
- {type: pd-profile-handler}
schedulingProfiles:
- {name: prefill, plugins: [{pluginRef: prefill-filter}, {pluginRef: max-score-picker}]}
- {name: decode, plugins: [{pluginRef: decode-filter}, {pluginRef: max-score-picker}]}`) })
    p.setEndpoints(labelled)
    const d = await p.pick(req({ model: 'm', prompt: 'hello world' }))
    expect(d.profiles).toEqual(['decode', 'prefill'])
    expect(d.headers).toEqual({ 'x-prefiller-host-port': refs[0]!.address })
    expect(d.removeHeaders).toEqual(['x-prefiller-host-port'])
    expect([d.endpoint.id, ...d.fallbacks.map((f) => f.id)].sort()).toEqual(['ns/pod-1', 'ns/pod-2'])
  })

  it('exports EPP metrics into the registry, shared by several pools', async () => {
    const { refs } = await startServers(2, cleanups)
    const registry = new Registry()
    const p1 = picker({ registry, poolName: 'pool-a' })
    const p2 = picker({ registry, poolName: 'pool-b' })
    p1.setEndpoints(refs)
    p2.setEndpoints(refs.slice(0, 1))
    await p1.pick(req({ model: 'm', prompt: 'x'.repeat(300) }))
    await p2.pick(req({ model: 'm', prompt: 'y' }))
    await expect(async () => p1.pick(req({ prompt: 'x' }))).rejects.toBeDefined()
    const text = await registry.metrics()
    expect(text).toContain('inference_objective_request_total{model_name="m",target_model_name="m"} 2')
    expect(text).toContain('inference_objective_request_error_total{model_name="",target_model_name="",error_code="bad_request"} 1')
    expect(text).toContain('inference_pool_ready_pods{name="pool-a"} 2')
    expect(text).toContain('inference_pool_ready_pods{name="pool-b"} 1')
    expect(text).toMatch(/inference_extension_prefix_indexer_size 4\b/)
    expect(text).toContain('inference_extension_scheduler_e2e_duration_seconds_count 2')
    expect(text).toContain('inference_extension_plugin_duration_seconds_count{extension_point="Scorer",plugin_type="queue-scorer",plugin_name="queue-scorer"} 2')
    expect(text).toMatch(/inference_extension_scheduler_attempts_total\{status="success",target_model_name="m",pod_name="pod-\d",namespace="ns",port="\d+"\} [12]\n/)
  })

  it('refuses an invalid config with the field paths', () => {
    expect(() => createInProcessPicker({ config: { plugins: [{ type: 'queue-scorer', parameters: { x: 1 } }] }, poolName: 'p' })).toThrowError(/plugins\[0\]\.parameters\.x/)
  })
})

describe('promptText', () => {
  const body = { model: 'm', messages: [{ role: 'system', content: 'é"\\'.repeat(3000) }, { role: 'user', content: 'tail'.repeat(50) }] }
  it('is the JSON of chat messages, or the completions prompt', () => {
    expect(promptText(body)).toEqual({ text: JSON.stringify(body.messages), length: JSON.stringify(body.messages).length })
    expect(promptText({ model: 'm', prompt: 'abc' }, 2)).toEqual({ text: 'ab', length: 3 })
    expect(promptText({ model: 'm', prompt: ['a', 'b'] }).text).toBe('["a","b"]')
  })
  it('cut to maxChars keeps the exact first maxChars characters', () => {
    const full = JSON.stringify(body.messages)
    for (const max of [1, 100, 4096, 9000]) {
      const { text, length } = promptText(body, max)
      expect(text.slice(0, max)).toBe(full.slice(0, max))
      expect(length).toBeGreaterThanOrEqual(9000 + 200)
    }
  })
})

describe('createInProcessPicker over HTTPS', () => {
  it('scrapes a self-signed HTTPS endpoint (insecureSkipVerify, the default) and refuses it when verification is on', async () => {
    const pems = await generate([{ name: 'commonName', value: 'vllm' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' })
    const server = createHttpsServer({ cert: pems.cert, key: pems.private }, (_req, res) => res.end('vllm:num_requests_waiting 1\nvllm:num_requests_running 0\nvllm:kv_cache_usage_perc 0\n'))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as AddressInfo
    const ref = { id: 'ns/tls', name: 'tls', namespace: 'ns', address: `127.0.0.1:${port}`, url: `https://127.0.0.1:${port}`, labels: {} }
    const lax = createInProcessPicker({ config: undefined, poolName: 'p', scrapeIntervalMs: 20 })
    const strict = createInProcessPicker({
      config: parse('plugins: [{type: queue-scorer}, {type: metrics-data-source, parameters: {insecureSkipVerify: false}}]'),
      poolName: 'p',
      scrapeIntervalMs: 20,
    })
    try {
      lax.setEndpoints([ref])
      strict.setEndpoints([ref])
      expect((await lax.pick(req({ model: 'm', prompt: 'x' }))).endpoint.id).toBe('ns/tls')
      expect(lax.endpointStates()[0]!.metrics?.waitingQueueSize).toBe(1)
      await expect(async () => strict.pick(req({ model: 'm', prompt: 'x' }))).rejects.toMatchObject({ status: 503 })
      expect(strict.endpointStates()[0]!.healthy).toBe(false)
    } finally {
      await lax.close()
      await strict.close()
      await new Promise((r) => server.close(r))
    }
  })
})
