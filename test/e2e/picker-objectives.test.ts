import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, startStack, type StackProcess } from './stack-process.js'
import { openGatewayYaml } from './open-gateway.js'

const MODEL = 'Qwen/Qwen3-0.6B'

/**
 * One simulated replica that runs one sequence at a time, so a few long requests fill its waiting queue; the pool's
 * saturation detector calls it saturated at 2 waiting. Two InferenceObjectives, one per API group: `critical` (10) and
 * `batch` (-1, sheddable).
 */
const STACK = `
${openGatewayYaml('gw', 'infra')}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: chat, namespace: team}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v1}}]
    backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: pool}]
---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: pool, namespace: team}
spec:
  selector: {matchLabels: {app: sim}}
  targetPorts: [{number: 8000}]
  endpointPickerRef: {name: pool-epp, port: {number: 9002}}
---
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
metadata: {name: pool-epp, namespace: team}
plugins:
- {type: queue-scorer}
- {type: prefix-cache-scorer}
schedulingProfiles:
- name: default
  plugins: [{pluginRef: queue-scorer, weight: 2}, {pluginRef: prefix-cache-scorer, weight: 3}]
saturationDetector: {queueDepthThreshold: 2}
---
apiVersion: maitred.dev/v1alpha1
kind: ModelServer
metadata: {name: sim-0, namespace: team, labels: {app: sim}}
spec: {simulator: {maxNumSeqs: 1}}
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: critical, namespace: team}
spec: {priority: 10, poolRef: {name: pool}}
---
apiVersion: llm-d.ai/v1alpha1
kind: InferenceObjective
metadata: {name: batch, namespace: team}
spec: {priority: -1, poolRef: {name: pool}}
`

describe('InferenceObjective priorities and maitred explain, on a running stack', () => {
  let stack: StackProcess
  let dir: string
  let gw: string

  const chat = (objective: string | undefined, init: { maxTokens?: number; signal?: AbortSignal } = {}) =>
    fetch(`${gw}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(objective ? { 'x-gateway-inference-objective': objective } : {}) },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Write a long story' }], max_tokens: init.maxTokens ?? 1, ignore_eos: true }),
      ...(init.signal ? { signal: init.signal } : {}),
    })

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'maitred-objectives-'))
    await writeFile(join(dir, 'stack.yaml'), STACK)
    stack = await startStack(['-f', join(dir, 'stack.yaml')])
    gw = stack.gatewayUrl()
  }, 90_000)

  afterAll(async () => {
    await stack?.stop()
    await rm(dir, { recursive: true, force: true })
  }, 60_000)

  it('maitred explain prints every scorer\'s raw score, weight and weighted score for the pick', async () => {
    // Long enough for several of the prefix scorer's blocks.
    const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: `Why is the sky blue? ${'Explain it with care. '.repeat(120)}` }] })
    const first = await runCli(['explain', '--state-dir', stack.stateDir, '-d', body])
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    const lines = first.stdout.split('\n')
    expect(lines[0]).toMatch(/^pool team\/pool {2}request [0-9a-f-]{36}$/)
    expect(lines[1]).toMatch(/^profiles run: default {2}picked: 127\.0\.0\.1:\d+$/)
    expect(lines[3]).toMatch(/^PROFILE +ENDPOINT +QUEUE-SCORER +PREFIX-CACHE-SCORER +TOTAL +PICKED$/)
    // A cold prefix index: the prefix scorer contributes 0, the idle queue 1×2.
    expect(lines[4]).toMatch(/^default +team\/sim-0 +1×2=2 +0×3=0 +2 +\*$/)

    // The same prompt again: the first request taught the index, so the prefix scorer now scores (json output).
    const second = await runCli(['explain', '--state-dir', stack.stateDir, '-d', body, '-o', 'json'])
    const rows = JSON.parse(second.stdout).rows as { endpoint: string; scores: { scorer: string; raw: number; weight: number; weighted: number }[]; total: number; picked: boolean }[]
    const prefix = rows[0]!.scores.find((s) => s.scorer === 'prefix-cache-scorer')!
    expect(prefix.raw).toBeGreaterThan(0.5)
    expect(prefix.weighted).toBeCloseTo(prefix.raw * 3)
    expect(rows[0]!.total).toBeCloseTo(rows[0]!.scores.reduce((n, s) => n + s.weighted, 0))
    expect(rows[0]!.picked).toBe(true)
    // And the access log recorded the rows of both requests.
    const logged = (await stack.accessLog()).filter((r) => Array.isArray(r.explain))
    expect(logged.length).toBeGreaterThanOrEqual(2)
  })

  it('maitred explain names what is wrong', async () => {
    const bad = await runCli(['explain', '--state-dir', stack.stateDir, '-d', '{"model":'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/the request body is not JSON/)
    const pool = await runCli(['explain', '--state-dir', stack.stateDir, '--pool', 'nope', '-d', '{}'])
    expect(pool.stderr).toMatch(/no InferencePool nope \(pools: team\/pool\)/)
  })

  it('a sheddable request gets 429 while the pool is saturated; a critical one is served', async () => {
    const background = new AbortController()
    // One runs, the rest wait: the queue passes the detector's threshold (2).
    const long = [0, 1, 2, 3].map(() => chat(undefined, { maxTokens: 30_000, signal: background.signal }).catch(() => undefined))
    await expect
      .poll(async () => (JSON.parse(await stack.get('endpoints', true)) as { metrics?: { waitingQueueSize: number } }[])[0]?.metrics?.waitingQueueSize ?? 0, { timeout: 20_000 })
      .toBeGreaterThanOrEqual(2)

    let critical: Promise<Response> | undefined
    let unnamed: Promise<Response> | undefined
    try {
      const shed = await chat('batch')
      expect(shed.status).toBe(429)
      expect(await shed.json()).toMatchObject({ error: { message: 'system saturated, sheddable request dropped', code: 'rejected-saturated' } })
      critical = chat('critical')
      unnamed = chat(undefined)
      // Still saturated after the critical request went in: it was admitted while the sheddable one was not.
      expect((await chat('batch')).status).toBe(429)
    } finally {
      background.abort()
      await Promise.all(long)
    }
    expect((await critical!).status).toBe(200)
    expect((await unnamed!).status).toBe(200)

    // Saturation over, the sheddable objective is served again.
    await expect.poll(async () => (await chat('batch')).status, { timeout: 20_000 }).toBe(200)
  })
})
