import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type StackProcess } from './stack-process.js'

const MODEL = 'Qwen/Qwen3-0.6B'
const PREFIX = '/my-first-model/qwen3-0-6b'

describe('maitred up: the seeds\' cluster, end to end', () => {
  let stack: StackProcess
  let gw: string
  let client: OpenAI

  beforeAll(async () => {
    stack = await startStack(['--time-scale', '10'])
    gw = stack.gatewayUrl('openshift-ai-inference')
    client = new OpenAI({ baseURL: `${gw}${PREFIX}/v1`, apiKey: 'unused', maxRetries: 0 })
  }, 90_000)

  afterAll(async () => {
    expect(await stack?.stop()).toBe(0)
  })

  it('prints where everything listens', () => {
    expect(stack.stdout()).toContain('maitred: stack ready')
    expect(stack.stdout()).toMatch(/ModelServer my-first-model\/qwen3-0-6b-kserve-0 +http:\/\/127\.0\.0\.1:\d+/)
    expect(stack.stdout()).toMatch(/Picker +my-first-model\/qwen3-0-6b-kserve-router-scheduler/)
  })

  it('models.list() through the catch-all route', async () => {
    const models = await client.models.list()
    expect(models.data.map((m) => m.id)).toContain(MODEL)
  })

  it('chat completion through the picker', async () => {
    const r = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 20 })
    expect(r.object).toBe('chat.completion')
    expect(r.choices[0]!.message.content?.length).toBeGreaterThan(0)
    expect(r.usage!.prompt_tokens).toBe(9)
    expect(r.usage!.completion_tokens).toBeGreaterThan(0)
  })

  it('text completion through the picker', async () => {
    const r = await client.completions.create({ model: MODEL, prompt: 'Hello world', max_tokens: 20 })
    expect(r.object).toBe('text_completion')
    expect(r.usage!.prompt_tokens).toBe(2)
  })

  it('streams chat, with and without include_usage', async () => {
    for (const includeUsage of [false, true]) {
      const stream = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'Tell me a story' }],
        max_tokens: 12,
        stream: true,
        ...({ ignore_eos: true } as object),
        ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
      })
      let text = ''
      let usage: OpenAI.CompletionUsage | undefined | null
      let chunks = 0
      for await (const chunk of stream) {
        chunks++
        text += chunk.choices[0]?.delta?.content ?? ''
        if (chunk.usage) usage = chunk.usage
      }
      expect(chunks).toBeGreaterThan(2)
      expect(text.length).toBeGreaterThan(0)
      if (includeUsage) expect(usage?.completion_tokens).toBeGreaterThan(0)
      else expect(usage).toBeUndefined()
    }
  })

  it('streams completions; the first SSE chunk arrives before the last is produced', async () => {
    const started = performance.now()
    const res = await fetch(`${gw}${PREFIX}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, prompt: 'Count', max_tokens: 200, ignore_eos: true, stream: true }),
    })
    const reader = res.body!.getReader()
    await reader.read()
    const firstAt = performance.now() - started
    while (!(await reader.read()).done);
    const lastAt = performance.now() - started
    // 200 tokens at ~6.5 ms of simulated T4 time each, 10× faster than real time: ≈130 ms between first and last when streamed, ≈0 when buffered.
    expect(lastAt - firstAt).toBeGreaterThan(40)
  })

  it('a wrong model gets vLLM\'s 404', async () => {
    const res = await fetch(`${gw}${PREFIX}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen3-0-6b', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5 }),
    })
    expect(res.status).toBe(404)
    const body = (await res.json()) as { error: { message: string } }
    expect(body.error.message).toBe('The model `qwen3-0-6b` does not exist.')
  })

  it('an unknown path gets the gateway\'s OpenAI-shaped 404', async () => {
    const res = await fetch(`${gw}/no-such-namespace/model/v1/models`)
    expect(res.status).toBe(404)
    const body = (await res.json()) as { error: { message: string; type: string; code: string } }
    expect(body.error).toMatchObject({ type: 'not_found_error', code: 'route_not_found' })
  })

  it('a body that is not JSON is refused with 400 before picking', async () => {
    const res = await fetch(`${gw}${PREFIX}/v1/chat/completions`, { method: 'POST', body: 'x' })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_json')
  })

  it('spreads a varied workload over both replicas', async () => {
    const before = (await stack.accessLog()).length
    // Four waves, 100 ms apart: between waves the picker scrapes fresh metrics (every 50 ms), as it would under a steady
    // load. (One burst is decided on a single scrape: with distinct prompts, the replica with the lower KV usage wins.)
    for (let wave = 0; wave < 4; wave++) {
      await Promise.all(
        Array.from({ length: 6 }, (_, j) => {
          const i = wave * 6 + j
          return client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: `${i} ${'why '.repeat(i)}?` }], max_tokens: 5 })
        }),
      )
      await new Promise((r) => setTimeout(r, 100))
    }
    await new Promise((r) => setTimeout(r, 200))
    const hosts = (await stack.accessLog()).slice(before).filter((l) => l.backend === 'InferencePool/qwen3-0-6b-inference-pool').map((l) => l.upstream_host)
    expect(new Set(hosts).size, JSON.stringify(hosts)).toBe(2)
  })

  it('concentrates requests sharing a long prefix on one replica', async () => {
    const shared = 'You are a meticulous assistant. '.repeat(60)
    const before = (await stack.accessLog()).length
    for (let i = 0; i < 16; i++)
      await client.chat.completions.create({ model: MODEL, messages: [{ role: 'system', content: shared }, { role: 'user', content: `q${i}` }], max_tokens: 3 })
    await new Promise((r) => setTimeout(r, 200))
    const hosts = (await stack.accessLog()).slice(before).map((l) => String(l.upstream_host))
    const counts = [...new Set(hosts)].map((h) => hosts.filter((x) => x === h).length)
    expect(Math.max(...counts)).toBeGreaterThanOrEqual(14)
  })

  it('the access log names the route, the backend cluster and the endpoint', async () => {
    const line = (await stack.accessLog()).find((l) => l.backend === 'InferencePool/qwen3-0-6b-inference-pool' && l.response_code === 200)!
    expect(line).toMatchObject({
      gateway: 'openshift-ai-inference',
      route_name: 'my-first-model/qwen3-0-6b-kserve-route/v1-chat-completions-path',
      upstream_cluster: 'outbound|8000||qwen3-0-6b-inference-pool.my-first-model.svc.cluster.local',
      response_code: 200,
    })
    expect(line.upstream_host).toMatch(/^127\.0\.0\.1:\d+$/)
  })

  it('get routes prints the seed\'s listing with status', async () => {
    const out = await stack.get('routes')
    expect(out).toMatch(/Gateway: openshift-ai-inference +Path: \/my-first-model\/qwen3-0-6b\/v1\/chat\/completions +-> InferencePool\/qwen3-0-6b-inference-pool +Accepted=True ResolvedRefs=True/)
    expect(out).toMatch(/Path: \/my-first-model\/qwen3-0-6b\/v1\/completions +-> InferencePool\/qwen3-0-6b-inference-pool/)
    expect(out).toMatch(/Path: \/my-first-model\/qwen3-0-6b +-> Service\/qwen3-0-6b-kserve-workload-svc/)
  })

  it('get gateways, pools and endpoints read the running stack', async () => {
    expect(await stack.get('gateways')).toMatch(
      /openshift-ingress +openshift-ai-inference +http\/HTTP:\d+,https\/HTTPS:\d+ +http:\/\/127\.0\.0\.1:\d+,https:\/\/127\.0\.0\.1:\d+ +2 +True/,
    )
    expect(await stack.get('pools')).toMatch(/qwen3-0-6b-inference-pool +qwen3-0-6b-kserve-router-scheduler +default +FailOpen/)
    const endpoints = JSON.parse(await stack.get('endpoints', true)) as { id: string; healthy: boolean; metrics?: { kvCacheUsagePercent: number } }[]
    expect(endpoints.map((e) => e.id).sort()).toEqual(['my-first-model/qwen3-0-6b-kserve-0', 'my-first-model/qwen3-0-6b-kserve-1'])
    expect(endpoints.every((e) => e.healthy && e.metrics !== undefined)).toBe(true)
  })

  it('a killed replica stops being picked within seconds, and up reports it', async () => {
    const endpoints = JSON.parse(await stack.get('endpoints', true)) as { id: string; pid: number; address: string }[]
    const victim = endpoints[0]!
    process.kill(victim.pid, 'SIGKILL')
    const deadline = Date.now() + 5_000
    while (!stack.stderr().includes(`ModelServer ${victim.id} exited`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(stack.stderr()).toContain(`ModelServer ${victim.id} exited`)
    const before = (await stack.accessLog()).length
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: `after ${i}` }], max_tokens: 3 }),
      ),
    )
    expect(results).toHaveLength(10)
    await new Promise((r) => setTimeout(r, 200))
    const hosts = (await stack.accessLog()).slice(before).map((l) => l.upstream_host)
    expect(hosts).not.toContain(victim.address)
  })
})
