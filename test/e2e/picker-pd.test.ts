import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type StackProcess } from './stack-process.js'
import { OPEN_GATEWAY_YAML } from './open-gateway.js'
import { PD_PICKER_CONFIG } from '../../src/controller/default-picker-configs.js'

const MODEL = 'Qwen/Qwen3-0.6B'

/**
 * Two P/D services. `pd`: the controller's default for a service with a prefill workload (the seed's pd-profile-handler
 * config, threshold 0: always prefill remotely). `pd-threshold`: the same with `threshold: 600`, so prefill is skipped
 * when at most 600 characters of the prompt are not in the chosen decode pod's cache.
 */
/** The controller's P/D default with another threshold. */
const pdConfig = (threshold: number) =>
  JSON.stringify({
    ...PD_PICKER_CONFIG,
    plugins: (PD_PICKER_CONFIG.plugins as { type: string }[]).map((p) => (p.type === 'pd-profile-handler' ? { ...p, parameters: { threshold } } : p)),
  })

const STACK = `
${OPEN_GATEWAY_YAML}---
apiVersion: serving.kserve.io/v1alpha1
kind: LLMInferenceService
metadata: {name: pd, namespace: llm}
spec:
  model: {uri: hf://Qwen/Qwen3-0.6B, name: Qwen/Qwen3-0.6B}
  replicas: 2
  prefill: {replicas: 2}
  router: {scheduler: {}, route: {}, gateway: {}}
---
apiVersion: serving.kserve.io/v1alpha1
kind: LLMInferenceService
metadata: {name: pd-threshold, namespace: llm}
spec:
  model: {uri: hf://Qwen/Qwen3-0.6B, name: Qwen/Qwen3-0.6B}
  replicas: 1
  prefill: {replicas: 1}
  router:
    scheduler: {config: {inline: '${pdConfig(600)}'}}
    route: {}
    gateway: {}
`

interface EndpointStatus {
  id: string
  address: string
  url: string
  labels: Record<string, string>
}

describe('P/D disaggregation through the picker, with the simulator\'s routing sidecar', () => {
  let stack: StackProcess
  let dir: string
  let endpoints: EndpointStatus[]

  const successes = async (e: EndpointStatus) => {
    const text = await (await fetch(`${e.url}/metrics`)).text()
    return text
      .split('\n')
      .filter((l) => l.startsWith('vllm:request_success_total'))
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)
  }
  const pods = (service: string, role: string) =>
    endpoints.filter((e) => e.labels['app.kubernetes.io/name'] === service && e.labels['llm-d.ai/role'] === role)
  const chat = (service: string, content: string) =>
    fetch(`${stack.gatewayUrl()}/llm/${service}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-maitred-explain': '1' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], max_tokens: 8 }),
    })

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'maitred-pd-'))
    await writeFile(join(dir, 'stack.yaml'), STACK)
    stack = await startStack(['-f', join(dir, 'stack.yaml'), '--time-scale', '10'])
    endpoints = JSON.parse(await stack.get('endpoints', true)) as EndpointStatus[]
  }, 90_000)

  afterAll(async () => {
    await stack?.stop()
    await rm(dir, { recursive: true, force: true })
  }, 60_000)

  it('the default P/D config picks a decode pod, then a prefill pod whose address goes in x-prefiller-host-port', async () => {
    const decode = pods('pd', 'decode')
    const prefill = pods('pd', 'prefill')
    expect(decode).toHaveLength(2)
    expect(prefill).toHaveLength(2)
    const before = await Promise.all(prefill.map(successes))
    const res = await chat('pd', `Tell me about disaggregated serving. ${'Long context. '.repeat(50)}`)
    expect(res.status).toBe(200)
    expect((await res.json()).choices[0].message.content.length).toBeGreaterThan(0)
    // Served by a decode pod; the picker ran decode first, then prefill, each picking one pod of its role.
    expect(decode.map((e) => e.address)).toContain(res.headers.get('x-gateway-destination-endpoint-served'))
    const explain = res.headers.get('x-maitred-explain')!
    expect(explain).toMatch(/^decode: .*\*.*; prefill: .*\*/)
    const prefillPick = /prefill: ([\w./-]+) [^,;]*\*/.exec(explain)![1]!
    expect(prefill.map((e) => e.id)).toContain(prefillPick)
    // The decode pod's sidecar sent the prompt to that prefill pod (the header the picker set), which ran it.
    const after = await Promise.all(prefill.map(successes))
    const ran = prefill.filter((_, i) => after[i]! - before[i]! === 1).map((e) => e.id)
    expect(ran).toEqual([prefillPick])
    const log = (await stack.accessLog()).find((r) => r.backend === 'InferencePool/pd-inference-pool')
    expect(log?.picker_profiles).toEqual(['decode', 'prefill'])
  })

  it('with a threshold, prefill is skipped once the decode pod\'s cache covers the prompt', async () => {
    const [prefill] = pods('pd-threshold', 'prefill')
    const prompt = `A long shared document. ${'The quick brown fox jumps over the lazy dog. '.repeat(90)}`
    const start = await successes(prefill!)

    const cold = await chat('pd-threshold', prompt)
    expect(cold.status).toBe(200)
    await cold.arrayBuffer()
    expect(cold.headers.get('x-maitred-explain')).toMatch(/; prefill: /)
    expect(await successes(prefill!)).toBe(start + 1)

    // The same prompt again: the decode pod holds it (the prefix index says so), the uncached rest is under 600 chars.
    const warm = await chat('pd-threshold', prompt)
    expect(warm.status).toBe(200)
    await warm.arrayBuffer()
    expect(warm.headers.get('x-maitred-explain')).not.toMatch(/prefill: /)
    expect(await successes(prefill!)).toBe(start + 1)

    // A new long prompt needs prefill again.
    const other = await chat('pd-threshold', `A different document. ${'Pack my box with five dozen liquor jugs. '.repeat(90)}`)
    expect(other.status).toBe(200)
    await other.arrayBuffer()
    expect(other.headers.get('x-maitred-explain')).toMatch(/; prefill: /)
    expect(await successes(prefill!)).toBe(start + 2)
  })
})
