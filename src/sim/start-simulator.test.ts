import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from './start-simulator.js'
import type { SimOptions } from './sim-options.js'
import { freePort } from '../../test/free-port.js'

const running: RunningSimulator[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()))
})

async function sim(options: SimOptions = {}): Promise<RunningSimulator> {
  const s = await startSimulator({ port: 0, timeScale: 20, ...options })
  running.push(s)
  return s
}

const client = (s: RunningSimulator) => new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'none', maxRetries: 0 })

async function post(s: RunningSimulator, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: res.status, json: (await res.json()) as any }
}

/** One sample of a metric (first series matching the label filter). */
async function metric(s: RunningSimulator, name: string, labelFilter = ''): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(name + '{') && l.includes(labelFilter))
  if (line === undefined) throw new Error(`no ${name}${labelFilter} in /metrics`)
  return Number(line.slice(line.lastIndexOf(' ') + 1))
}

const longText = (seed: number, words = 600) => Array.from({ length: words }, (_, i) => `w${(i * 7919 + seed) % 1000}`).join(' ')

describe('simulator HTTP surface', () => {
  it('serves the OpenAI endpoints to the official client with real Qwen3 token counts', async () => {
    const s = await sim()
    const openai = client(s)
    const models = await openai.models.list()
    expect(models.data.map((m) => m.id)).toEqual(['Qwen/Qwen3-0.6B'])

    const chat = await openai.chat.completions.create({ model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 20 })
    expect(chat.object).toBe('chat.completion')
    expect(chat.usage?.prompt_tokens).toBe(9)
    expect(chat.usage?.completion_tokens).toBeGreaterThan(0)
    expect(chat.usage?.completion_tokens).toBeLessThanOrEqual(20)
    expect(chat.usage?.prompt_tokens_details?.cached_tokens).toBe(0)
    expect(typeof chat.choices[0]?.message.content).toBe('string')

    const completion = await openai.completions.create({ model: 'Qwen/Qwen3-0.6B', prompt: 'Hello world', max_tokens: 20 })
    expect(completion.object).toBe('text_completion')
    expect(completion.usage?.prompt_tokens).toBe(2)
  })

  it('streams one chunk per token and ends with usage when asked', async () => {
    const s = await sim()
    const stream = await client(s).chat.completions.create({
      model: 'Qwen/Qwen3-0.6B',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 12,
      stream: true,
      stream_options: { include_usage: true },
      ignore_eos: true,
    } as OpenAI.ChatCompletionCreateParamsStreaming)
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    const usage = chunks.at(-1)?.usage
    expect(chunks.at(-1)?.choices).toEqual([])
    expect(usage?.completion_tokens).toBe(12)
    expect(usage?.prompt_tokens).toBe(9)
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant')
    const contentChunks = chunks.filter((c) => c.choices[0]?.delta.content !== undefined && c.choices[0].delta.role === undefined)
    expect(contentChunks).toHaveLength(12)
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('length')

    const plain = await client(s).completions.create({ model: 'Qwen/Qwen3-0.6B', prompt: 'Hello world', max_tokens: 5, stream: true })
    const plainChunks = []
    for await (const chunk of plain) plainChunks.push(chunk)
    expect(plainChunks.every((c) => c.usage == null)).toBe(true)
  })

  it('streams the same text, piece by piece, as the unstreamed response with the same seed', async () => {
    const s = await sim()
    const body = { model: 'Qwen/Qwen3-0.6B', prompt: 'Hello world', max_tokens: 16, seed: 7 }
    const whole = await client(s).completions.create(body)
    const stream = await client(s).completions.create({ ...body, stream: true })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? ''
    expect(text).not.toBe('')
    expect(text).toBe(whole.choices[0]?.text)
  })

  it('streams to an HTTP/1.0 client too: no chunked encoding, the events as they are, the body ended by the close', async () => {
    const s = await sim()
    const { port } = new URL(s.url)
    const body = JSON.stringify({ prompt: 'Hello world', max_tokens: 4, ignore_eos: true, stream: true })
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () =>
        socket.write(`POST /v1/completions HTTP/1.0\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`),
      )
      let data = ''
      socket.on('data', (d: Buffer) => (data += d.toString()))
      socket.on('error', reject)
      socket.on('close', () => resolve(data))
    })
    const [head, sse] = [answer.slice(0, answer.indexOf('\r\n\r\n')), answer.slice(answer.indexOf('\r\n\r\n') + 4)]
    expect(head).toMatch(/^HTTP\/1\.1 200 /)
    expect(head.toLowerCase()).not.toContain('transfer-encoding')
    const events = sse.split('\n\n').filter((e) => e !== '')
    expect(events.at(-1)).toBe('data: [DONE]')
    expect(events.slice(0, -1).map((e) => JSON.parse(e.slice(6)).choices[0].text)).toHaveLength(4)
  })

  it('sends usage on every chunk with continuous_usage_stats', async () => {
    const s = await sim()
    const res = await fetch(`${s.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'Hello world', max_tokens: 3, ignore_eos: true, stream: true, stream_options: { include_usage: true, continuous_usage_stats: true } }),
    })
    const events = (await res.text()).split('\n\n').filter((e) => e.startsWith('data: {'))
    const usages = events.map((e) => JSON.parse(e.slice(6)).usage)
    expect(usages.map((u) => u.completion_tokens)).toEqual([1, 2, 3, 3])
  })

  it('answers bad input with vLLM error JSON and status', async () => {
    const s = await sim({ maxModelLen: 100 })
    const wrong = await post(s, '/v1/chat/completions', { model: 'qwen3-0-6b', messages: [{ role: 'user', content: 'Hi' }] })
    expect(wrong.status).toBe(404)
    expect(wrong.json.error).toMatchObject({ message: 'The model `qwen3-0-6b` does not exist.', type: 'NotFoundError', code: 404 })
    const invalid = await post(s, '/v1/chat/completions', '{"model": ')
    expect(invalid.status).toBe(400)
    expect(invalid.json.error.code).toBe(400)
    const missing = await post(s, '/v1/chat/completions', { model: 'Qwen/Qwen3-0.6B' })
    expect(missing.status).toBe(400)
    expect(missing.json.error.message).toContain('messages')
    const wrongType = await post(s, '/v1/completions', { prompt: 'x', max_tokens: 'ten' })
    expect(wrongType.status).toBe(400)
    const tooLong = await post(s, '/v1/completions', { prompt: 'Hello world', max_tokens: 99 })
    expect(tooLong.status).toBe(400)
    expect(tooLong.json.error.message).toContain("maximum context length is 100 tokens")
    const unknown = await fetch(`${s.url}/v2/nothing`)
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as any).error.code).toBe(404)
  })

  it('serves /health, /ping, /version, /tokenize and /detokenize', async () => {
    const s = await sim()
    expect((await fetch(`${s.url}/health`)).status).toBe(200)
    expect((await fetch(`${s.url}/ping`, { method: 'POST' })).status).toBe(200)
    expect(((await (await fetch(`${s.url}/version`)).json()) as any).version).toBeTypeOf('string')
    const tok = await post(s, '/tokenize', { messages: [{ role: 'user', content: 'Hi' }] })
    expect(tok.json.count).toBe(9)
    const tok2 = await post(s, '/tokenize', { prompt: 'Hello world' })
    expect(tok2.json.tokens).toEqual([9707, 1879])
    const detok = await post(s, '/detokenize', { tokens: [9707, 1879] })
    expect(detok.json.prompt).toBe('Hello world')
  })

  it('makes a repeated prefix faster and reports cached tokens and prefix metrics', async () => {
    const s = await sim()
    const prompt = longText(1, 1500)
    const first = await post(s, '/v1/completions', { prompt: `${prompt} one`, max_tokens: 1 })
    const second = await post(s, '/v1/completions', { prompt: `${prompt} two`, max_tokens: 1 })
    expect(first.json.usage.prompt_tokens_details.cached_tokens).toBe(0)
    expect(second.json.usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(first.json.usage.prompt_tokens - 32)
    expect(await metric(s, 'vllm:prefix_cache_hits_total')).toBe(second.json.usage.prompt_tokens_details.cached_tokens)
    expect(await metric(s, 'vllm:prefix_cache_queries_total')).toBe(first.json.usage.prompt_tokens + second.json.usage.prompt_tokens)
    // TTFT histogram: the second request's TTFT is in a lower bucket than the first's (prefill of ~3k tokens ≈ 100 ms).
    expect(await metric(s, 'vllm:time_to_first_token_seconds_bucket', 'le="0.04"')).toBe(1)
    expect(await metric(s, 'vllm:time_to_first_token_seconds_count')).toBe(2)
  })

  it('at time scale 1 the client sees the simulated TTFT on the wall clock', async () => {
    const s = await sim({ timeScale: 1 })
    // Warm up the connection and the tokenizer's JIT, then measure a fresh prompt.
    await post(s, '/v1/completions', { prompt: longText(8, 1500), max_tokens: 1 })
    const firstTtft = (await metric(s, 'vllm:time_to_first_token_seconds_sum')) * 1000
    const body = JSON.stringify({ prompt: longText(9, 1500), max_tokens: 2, ignore_eos: true, stream: true })
    const t0 = performance.now()
    const res = await fetch(`${s.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    const reader = res.body!.getReader()
    await reader.read()
    const wall = performance.now() - t0
    while (!(await reader.read()).done) {}
    const simulated = (await metric(s, 'vllm:time_to_first_token_seconds_sum')) * 1000 - firstTtft
    // A ~6k-token prompt on a T4 takes ~300 ms to prefill; the wall clock may add the simulator's overhead, never less.
    expect(simulated).toBeGreaterThan(100)
    expect(wall).toBeGreaterThanOrEqual(simulated - 2)
    expect(wall).toBeLessThan(simulated + 150)
  })

  it('turns prefix caching off when asked', async () => {
    const s = await sim({ enablePrefixCaching: false })
    const prompt = longText(2, 300)
    await post(s, '/v1/completions', { prompt, max_tokens: 1 })
    const again = await post(s, '/v1/completions', { prompt, max_tokens: 1 })
    expect(again.json.usage.prompt_tokens_details.cached_tokens).toBe(0)
    expect(await (await fetch(`${s.url}/metrics`)).text()).toContain('enable_prefix_caching="False"')
  })

  it('queues past max-num-seqs, refuses with 429 past the queue bound, and the gauges show it', async () => {
    const s = await sim({ maxNumSeqs: 1, maxWaitingQueueLength: 1, timeScale: 5 })
    const body = { prompt: 'Hello world', max_tokens: 200, ignore_eos: true }
    const a = post(s, '/v1/completions', body)
    await new Promise((r) => setTimeout(r, 30))
    const b = post(s, '/v1/completions', body)
    await new Promise((r) => setTimeout(r, 30))
    expect(await metric(s, 'vllm:num_requests_running')).toBe(1)
    expect(await metric(s, 'vllm:num_requests_waiting')).toBe(1)
    const c = await post(s, '/v1/completions', body)
    expect(c.status).toBe(429)
    expect(c.json.error).toMatchObject({ message: 'Failed to enqueue request, waiting requests queue is full', code: 429 })
    expect((await a).status).toBe(200)
    expect((await b).status).toBe(200)
    expect(await metric(s, 'vllm:num_requests_running')).toBe(0)
    expect(await metric(s, 'vllm:request_success_total', 'finished_reason="length"')).toBe(2)
    expect(await metric(s, 'vllm:generation_tokens_total')).toBe(400)
    expect(await metric(s, 'vllm:prompt_tokens_total')).toBe(4)
  })

  it('preempts when KV blocks run out, and every request still completes', async () => {
    // 10 usable blocks of 16 tokens; three sequences growing to 62 tokens need 12.
    const s = await sim({ numGpuBlocks: 11 })
    const body = { prompt: 'Hello world', max_tokens: 60, ignore_eos: true }
    const results = await Promise.all([0, 1, 2].map(() => post(s, '/v1/completions', body)))
    expect(results.map((r) => r.json.usage.completion_tokens)).toEqual([60, 60, 60])
    expect(await metric(s, 'vllm:num_preemptions_total')).toBeGreaterThan(0)
    expect(await metric(s, 'vllm:kv_cache_usage_perc')).toBe(0)
  })

  it('aborts the engine request when a streaming client disconnects', async () => {
    const s = await sim({ timeScale: 5 })
    const controller = new AbortController()
    const res = await fetch(`${s.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: longText(3, 2000), max_tokens: 1000, ignore_eos: true, stream: true }),
      signal: controller.signal,
    })
    const reader = res.body!.getReader()
    await reader.read()
    expect(await metric(s, 'vllm:num_requests_running')).toBe(1)
    expect(await metric(s, 'vllm:kv_cache_usage_perc')).toBeGreaterThan(0)
    controller.abort()
    await new Promise((r) => setTimeout(r, 50))
    expect(await metric(s, 'vllm:num_requests_running')).toBe(0)
    expect(await metric(s, 'vllm:kv_cache_usage_perc')).toBe(0)
    expect(await metric(s, 'vllm:request_success_total', 'finished_reason="abort"')).toBe(1)
  })

  it('aborts a non-streaming request when its client goes away', async () => {
    const s = await sim({ timeScale: 5 })
    const controller = new AbortController()
    const pending = fetch(`${s.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'Hello world', max_tokens: 1000, ignore_eos: true }),
      signal: controller.signal,
    }).catch(() => null)
    await new Promise((r) => setTimeout(r, 50))
    expect(await metric(s, 'vllm:num_requests_running')).toBe(1)
    controller.abort()
    await pending
    await new Promise((r) => setTimeout(r, 50))
    expect(await metric(s, 'vllm:num_requests_running')).toBe(0)
  })

  it('honours n, stop, echo, ignore_eos and max_completion_tokens', async () => {
    const s = await sim()
    const n = await post(s, '/v1/completions', { prompt: 'Hello world', max_tokens: 7, n: 3, ignore_eos: true })
    expect(n.json.choices).toHaveLength(3)
    expect(n.json.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 21 })
    const echo = await post(s, '/v1/completions', { prompt: 'Hello world', max_tokens: 3, echo: true })
    expect(echo.json.choices[0].text.startsWith('Hello world')).toBe(true)
    const chat = await post(s, '/v1/chat/completions', { messages: [{ role: 'user', content: 'Hi' }], max_completion_tokens: 5, ignore_eos: true })
    expect(chat.json.usage.completion_tokens).toBe(5)
    const free = await post(s, '/v1/completions', { prompt: 'Hello world', max_tokens: 200, ignore_eos: true, seed: 4 })
    const word = (free.json.choices[0].text as string).split(' ')[3] as string
    const stopped = await post(s, '/v1/completions', { prompt: 'Hello world', max_tokens: 200, ignore_eos: true, seed: 4, stop: [word] })
    expect(stopped.json.choices[0].finish_reason).toBe('stop')
    expect(stopped.json.choices[0].stop_reason).toBe(word)
    expect(stopped.json.choices[0].text).not.toContain(word)
    expect(stopped.json.usage.completion_tokens).toBeLessThan(200)
  })

  it('echo mode returns the last message', async () => {
    const s = await sim({ mode: 'echo' })
    const chat = await post(s, '/v1/chat/completions', { messages: [{ role: 'user', content: 'Repeat after me, señor' }] })
    expect(chat.json.choices[0].message.content).toBe('Repeat after me, señor')
    expect(chat.json.choices[0].finish_reason).toBe('stop')
  })

  it('serves LoRA adapters and reports them', async () => {
    const s = await sim({ loraModules: [{ name: 'sql-lora', path: '/adapters/sql' }], maxLoras: 2 })
    const models = (await (await fetch(`${s.url}/v1/models`)).json()) as any
    expect(models.data.map((m: any) => m.id)).toEqual(['Qwen/Qwen3-0.6B', 'sql-lora'])
    expect(models.data[1].parent).toBe('Qwen/Qwen3-0.6B')
    const r = await post(s, '/v1/completions', { model: 'sql-lora', prompt: 'Hello world', max_tokens: 2 })
    expect(r.status).toBe(200)
    expect(r.json.model).toBe('sql-lora')
    expect(await (await fetch(`${s.url}/metrics`)).text()).toMatch(/vllm:lora_requests_info\{max_lora="2",running_lora_adapters="",waiting_lora_adapters=""\} \d/)
  })

  it('injects failures when asked', async () => {
    const s = await sim({ failureInjectionRate: 100, failureTypes: ['rate_limit'] })
    const r = await post(s, '/v1/completions', { prompt: 'Hello world', max_tokens: 2 })
    expect(r.status).toBe(429)
    const s2 = await sim({ failureInjectionRate: 100, failureTypes: ['server_error'] })
    expect((await post(s2, '/v1/completions', { prompt: 'Hello world', max_tokens: 2 })).status).toBe(503)
    const s3 = await sim({ failureInjectionRate: 100, failureTypes: ['connection_reset'] })
    await expect(post(s3, '/v1/completions', { prompt: 'Hello world', max_tokens: 2 })).rejects.toThrow()
  })

  it('injected slow starts delay the first token, and hangs never answer', async () => {
    // 2 000 simulated ms at 20× = 100 ms of wall time.
    const slow = await sim({ failureInjectionRate: 100, failureTypes: ['slow_start'], slowStartMs: 2000 })
    const t0 = performance.now()
    expect((await post(slow, '/v1/completions', { prompt: 'Hello world', max_tokens: 1 })).status).toBe(200)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(95)
    const hang = await sim({ failureInjectionRate: 100, failureTypes: ['hang'] })
    const request = fetch(`${hang.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'Hello world', max_tokens: 1 }),
      signal: AbortSignal.timeout(300),
    })
    await expect(request).rejects.toThrow(/timeout|abort/i)
    expect(await metric(hang, 'vllm:num_requests_running')).toBe(0)
  })

  it('rejects bad options with zod paths', async () => {
    await expect(startSimulator({ maxNumSeqs: 0 })).rejects.toThrow(/maxNumSeqs/)
    await expect(startSimulator({ nope: 1 } as SimOptions)).rejects.toThrow(/nope/)
  })
})

describe('P/D disaggregation', () => {
  it('prefills on the pod named by x-prefiller-host-port, then decodes locally with the transferred KV', async () => {
    const prefill = await sim({ role: 'prefill' })
    const decode = await sim({ role: 'decode' })
    const prompt = longText(5, 800)
    const prefillHost = new URL(prefill.url).host
    const r = await post(decode, '/v1/completions', { prompt, max_tokens: 10, ignore_eos: true }, { 'x-prefiller-host-port': prefillHost })
    expect(r.status).toBe(200)
    expect(r.json.usage.completion_tokens).toBe(10)
    // The prefill pod computed the prompt and produced one token; the decode pod produced all ten.
    expect(await metric(prefill, 'vllm:prompt_tokens_total')).toBe(r.json.usage.prompt_tokens)
    expect(await metric(prefill, 'vllm:generation_tokens_total')).toBe(1)
    expect(await metric(decode, 'vllm:generation_tokens_total')).toBe(10)
    expect(await metric(prefill, 'vllm:request_success_total', 'finished_reason="length"')).toBe(1)
    expect(await metric(decode, 'vllm:request_success_total', 'finished_reason="length"')).toBe(1)

    // Without the header, the decode pod prefills locally.
    const local = await post(decode, '/v1/completions', { prompt: 'Hello world', max_tokens: 2 })
    expect(local.status).toBe(200)
    expect(await metric(prefill, 'vllm:request_success_total', 'finished_reason="length"')).toBe(1)
  })

  it('a prefill pod returns kv_transfer_params and refuses streaming', async () => {
    const prefill = await sim({ role: 'prefill' })
    const r = await post(prefill, '/v1/completions', { prompt: 'Hello world', max_tokens: 1, kv_transfer_params: { do_remote_decode: true } })
    expect(r.json.kv_transfer_params).toMatchObject({ do_remote_prefill: true, do_remote_decode: false, remote_port: prefill.port })
    const streamed = await post(prefill, '/v1/completions', { prompt: 'Hello world', stream: true, kv_transfer_params: { do_remote_decode: true } })
    expect(streamed.status).toBe(400)
  })
})

const has = (bin: string) => spawnSync(bin, ['--version']).status === 0

describe.skipIf(!has('promtool'))('metrics exposition', () => {
  it('parses cleanly with promtool check metrics (only the expected lint about vLLM names)', async () => {
    const s = await sim({ loraModules: [{ name: 'sql-lora' }] })
    await post(s, '/v1/completions', { prompt: 'Hello world', max_tokens: 3 })
    const text = await (await fetch(`${s.url}/metrics`)).text()
    const result = spawnSync('promtool', ['check', 'metrics'], { input: text })
    // Exit 1 is a parse error; 3 means lint problems only.
    expect([0, 3]).toContain(result.status)
    const complaints = (result.stdout.toString() + result.stderr.toString()).split('\n').filter((l) => l.trim() !== '')
    const expected = /metric names should not contain ':'|vllm:iteration_tokens_total non-counter metrics should not have "_total" suffix/
    expect(complaints.filter((l) => !expected.test(l))).toEqual([])
  })
})

describe.skipIf(!has('prometheus'))('real Prometheus', () => {
  it('scrapes /metrics without errors', async () => {
    const s = await sim()
    await post(s, '/v1/completions', { prompt: 'Hello world', max_tokens: 3, ignore_eos: true })
    const port = await freePort()
    const dir = mkdtempSync(join(tmpdir(), 'sim-prom-'))
    const config = join(dir, 'prometheus.yml')
    writeFileSync(
      config,
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: sim\n    static_configs:\n      - targets: ['127.0.0.1:${s.port}']\n`,
    )
    const prom = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' })
    try {
      const api = `http://127.0.0.1:${port}/api/v1`
      let value: string | undefined
      for (let i = 0; i < 100 && value === undefined; i++) {
        await new Promise((r) => setTimeout(r, 200))
        const targets = (await fetch(`${api}/targets`).then((r) => r.json()).catch(() => null)) as any
        const target = targets?.data?.activeTargets?.[0]
        if (target?.health !== 'up') continue
        expect(target.lastError).toBe('')
        const q = (await fetch(`${api}/query?query=${encodeURIComponent('vllm:generation_tokens_total')}`).then((r) => r.json())) as any
        value = q.data.result[0]?.value?.[1]
      }
      expect(value).toBe('3')
    } finally {
      prom.kill('SIGTERM')
      await new Promise((r) => prom.once('exit', r))
    }
  }, 30_000)
})
