import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openGatewayYaml } from './open-gateway.js'
import { startStack, type StackProcess } from './stack-process.js'

const MODEL = 'Qwen/Qwen3-0.6B'

/**
 * Two simulated replicas whose KV cache holds about one and a half documents (149 blocks of 16 tokens), publishing their KV
 * events; two pools over the same replicas, one picked from the approximate index and one from the replicas' events
 * (prefix scorer only, so the index alone decides). Traffic that does not pass a picker (another gateway or picker
 * replica, as in an active-active deployment) moves the cache under its feet.
 */
const pool = (name: string, producer: string) => `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: team}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /${name}/v1}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /v1}}}]
    backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: ${name}}]
---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: ${name}, namespace: team}
spec:
  selector: {matchLabels: {app: sim}}
  targetPorts: [{number: 8000}]
  endpointPickerRef: {name: ${name}-epp, port: {number: 9002}}
---
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
metadata: {name: ${name}-epp, namespace: team}
plugins:
- {type: ${producer}}
- {type: prefix-cache-scorer}
schedulingProfiles:
- name: default
  plugins: [{pluginRef: prefix-cache-scorer, weight: 1}]
`

const STACK = `${openGatewayYaml('gw', 'infra')}${pool('approx', 'approx-prefix-cache-producer')}${pool('precise', 'precise-prefix-cache-producer')}${[0, 1]
  .map(
    (i) => `---
apiVersion: maitred.dev/v1alpha1
kind: ModelServer
metadata: {name: sim-${i}, namespace: team, labels: {app: sim}}
spec: {simulator: {numGpuBlocks: 150, timeScale: 10, kvEvents: {}}}
`,
  )
  .join('')}`

/** ≈ 100 blocks of tokens, distinct per name. */
const doc = (name: string) => `Document ${name}. ${Array.from({ length: 400 }, (_, i) => `w${(i * 7919 + name.length * 31 + name.charCodeAt(0)) % 997}`).join(' ')}`

describe('precise prefix routing from KV events, end to end (maitred up, real ZMQ on 127.0.0.1)', () => {
  let stack: StackProcess
  let dir: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'maitred-precise-'))
    await writeFile(join(dir, 'stack.yaml'), STACK)
    stack = await startStack(['-f', join(dir, 'stack.yaml')])
  }, 90_000)

  afterAll(async () => {
    await stack?.stop()
    await rm(dir, { recursive: true, force: true })
  }, 60_000)

  /** Sends a completion to `base` (the gateway's pool route, or a replica directly); returns where it ran and its cache hit. */
  async function complete(base: string, prompt: string): Promise<{ endpoint: string; cached: number; prompt: number }> {
    const res = await fetch(`${base}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, prompt, max_tokens: 2, ignore_eos: true }),
    })
    const body = (await res.json()) as { usage: { prompt_tokens: number; prompt_tokens_details: { cached_tokens: number } } }
    expect(res.status).toBe(200)
    return { endpoint: res.headers.get('x-gateway-destination-endpoint-served') ?? '', cached: body.usage.prompt_tokens_details.cached_tokens, prompt: body.usage.prompt_tokens }
  }

  /**
   * Through the pool, document A lands on some replica X. Behind the picker's back, two other documents evict A from X and
   * A is computed on the other replica Y. Through the pool again: which replica does A go to, and does it hit?
   */
  async function scenario(name: string) {
    const viaPool = `${stack.gatewayUrl()}/${name}`
    const a = doc(`${name}-A`)
    const first = await complete(viaPool, a)
    const x = first.endpoint
    const y = (await replicaAddresses()).find((r) => r !== x)!
    await complete(`http://${x}`, doc(`${name}-B`))
    await complete(`http://${x}`, doc(`${name}-C`))
    await complete(`http://${y}`, a)
    // The events of what ran behind its back reach the precise picker within a moment.
    await new Promise((r) => setTimeout(r, 300))
    const again = await complete(viaPool, a)
    return { x, y, again }
  }

  async function replicaAddresses(): Promise<string[]> {
    const json = await stack.get('endpoints', true)
    return [...new Set([...json.matchAll(/"address":\s*"([^"]+)"/g)].map((m) => m[1]!))]
  }

  it('the approximate index sends the document back to where it was evicted: a miss', async () => {
    const { x, again } = await scenario('approx')
    expect(again.endpoint).toBe(x)
    expect(again.cached).toBeLessThan(again.prompt / 2)
  })

  it('the KV events tell the precise index where the document is now: a hit', async () => {
    const { y, again } = await scenario('precise')
    expect(again.endpoint).toBe(y)
    // vLLM recomputes at least the last token, so a full hit is every full block before it.
    expect(again.cached).toBe(Math.floor((again.prompt - 1) / 16) * 16)
  })
})
