import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, startStack, type StackProcess } from './stack-process.js'
import { OPEN_GATEWAY_YAML } from './open-gateway.js'

const MODEL = 'Qwen/Qwen3-0.6B'
const PREFIX = '/my-first-model/qwen3-0-6b'

/** The seeds' cluster with 4 simulated replicas and the default picker config (queue 2, kv-cache 2, prefix-cache 3). */
const STACK = `
${OPEN_GATEWAY_YAML}---
apiVersion: serving.kserve.io/v1alpha1
kind: LLMInferenceService
metadata: {name: qwen3-0-6b, namespace: my-first-model}
spec:
  model: {uri: hf://Qwen/Qwen3-0.6B, name: Qwen/Qwen3-0.6B}
  replicas: 4
  router: {scheduler: {}, route: {}, gateway: {}}
`

const GROUPS = 8
const PER_GROUP = 8
/** Mean gap between arrivals (Poisson): ~25 requests/s, about 8 in flight at once on the simulated T4s. */
const MEAN_GAP_MS = 40

/** The default scorers plus llm-d's no-hit-lru-scorer, which sends each cold (never seen) prefix to the least recently cold-picked replica. */
const WITH_NO_HIT_LRU = `
    scheduler:
      config:
        inline:
          apiVersion: inference.networking.x-k8s.io/v1alpha1
          kind: EndpointPickerConfig
          plugins:
          - {type: queue-scorer}
          - {type: kv-cache-utilization-scorer}
          - {type: prefix-cache-scorer}
          - {type: no-hit-lru-scorer}
          schedulingProfiles:
          - name: default
            plugins:
            - {pluginRef: queue-scorer, weight: 2}
            - {pluginRef: kv-cache-utilization-scorer, weight: 2}
            - {pluginRef: prefix-cache-scorer, weight: 3}
            - {pluginRef: no-hit-lru-scorer, weight: 2}
    route: {}
    gateway: {}`

/** A deterministic generator, so the workload (and its arrival order) is the same on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32)
}

/** Each group shares a long system prompt (a tenant's instructions); each request adds its own question. */
function workload(seed: number): { group: number; messages: { role: string; content: string }[] }[] {
  const random = lcg(seed)
  const words = ['inference', 'gateway', 'kernel', 'tensor', 'routing', 'latency', 'cache', 'prefix', 'replica', 'batch', 'token', 'scheduler']
  const systems = Array.from({ length: GROUPS }, (_, g) =>
    `Tenant ${g}.${seed} instructions: ${Array.from({ length: 300 }, () => words[Math.floor(random() * words.length)]).join(' ')}`,
  )
  const requests = systems.flatMap((system, group) =>
    Array.from({ length: PER_GROUP }, (_, i) => ({ group, messages: [{ role: 'system', content: system }, { role: 'user', content: `Question ${i} of tenant ${group}?` }] })),
  )
  // Tenants interleave, as on a shared cluster.
  for (let i = requests.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[requests[i], requests[j]] = [requests[j]!, requests[i]!]
  }
  return requests
}

interface Placement {
  /** Fraction of all requests served by their group's home replica (where most of the group went). */
  affinity: number
  perGroup: { group: number; home: string; share: number }[]
  perReplica: { replica: string; requests: number; groups: number[] }[]
}

/** Open-loop Poisson arrivals, as independent clients send them (a closed loop would start every tenant in the same instant). */
async function run(url: string, seed: number, label: string): Promise<Placement> {
  const served: { group: number; endpoint: string }[] = []
  const gaps = lcg(seed + 1)
  const inFlight: Promise<void>[] = []
  for (const r of workload(seed)) {
    inFlight.push(
      (async () => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: MODEL, messages: r.messages, max_tokens: 24, ignore_eos: true }),
        })
        expect(res.status).toBe(200)
        await res.arrayBuffer()
        served.push({ group: r.group, endpoint: res.headers.get('x-gateway-destination-endpoint-served')! })
      })(),
    )
    await new Promise((resolve) => setTimeout(resolve, -Math.log(1 - gaps()) * MEAN_GAP_MS))
  }
  await Promise.all(inFlight)

  const perGroup = Array.from({ length: GROUPS }, (_, g) => {
    const counts = new Map<string, number>()
    for (const s of served.filter((x) => x.group === g)) counts.set(s.endpoint, (counts.get(s.endpoint) ?? 0) + 1)
    const [home, n] = [...counts].sort((a, b) => b[1] - a[1])[0]!
    return { group: g, home, share: n / PER_GROUP }
  })
  const perReplica = [...new Set(served.map((s) => s.endpoint))].sort().map((e) => ({
    replica: e,
    requests: served.filter((s) => s.endpoint === e).length,
    groups: perGroup.filter((g) => g.home === e).map((g) => g.group),
  }))
  const affinity = served.filter((s) => perGroup[s.group]!.home === s.endpoint).length / served.length
  console.log(
    `${label}: affinity ${(affinity * 100).toFixed(1)}%; groups per replica ${perReplica.map((r) => `${r.replica} [${r.groups.join(',')}] ${r.requests} requests`).join('; ')}`,
  )
  return { affinity, perGroup, perReplica }
}

describe('picker configs on 4 replicas with a multi-tenant shared-prefix workload (8 groups × 8 requests)', () => {
  let stack: StackProcess
  let dir: string
  let url: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'maitred-affinity-'))
    await writeFile(join(dir, 'stack.yaml'), STACK)
    stack = await startStack(['-f', join(dir, 'stack.yaml')])
    url = `${stack.gatewayUrl()}${PREFIX}/v1/chat/completions`
  }, 90_000)

  afterAll(async () => {
    await stack?.stop()
    await rm(dir, { recursive: true, force: true })
  }, 60_000)

  it('the default config sends each prefix group to one replica; the simulators\' caches hit', async () => {
    const placed = await run(url, 7, 'default config')
    // Nearly every request of a group lands on the group's replica (the first ones of a group may race each other).
    expect(placed.affinity).toBeGreaterThanOrEqual(0.9)
    for (const g of placed.perGroup) expect(g.share).toBeGreaterThanOrEqual(6 / PER_GROUP)
    // New groups go where the KV cache is least used at that moment: spread, though not evenly (a replica whose
    // requests have finished looks idle however many groups it holds).
    expect(placed.perReplica.filter((r) => r.groups.length > 0).length).toBeGreaterThanOrEqual(3)

    // The simulators' own prefix caches agree: most prompt tokens were cache hits.
    const endpoints = JSON.parse(await stack.get('endpoints', true)) as { url: string }[]
    let hits = 0
    let queries = 0
    for (const e of endpoints) {
      const text = await (await fetch(`${e.url}/metrics`)).text()
      hits += metric(text, 'vllm:prefix_cache_hits_total')
      queries += metric(text, 'vllm:prefix_cache_queries_total')
    }
    console.log(`simulators' prefix cache hit rate: ${((hits / queries) * 100).toFixed(1)}% (${hits}/${queries} tokens)`)
    expect(hits / queries).toBeGreaterThan(0.7)
  }, 120_000)

  it('with no-hit-lru-scorer, new groups are spread over every replica, and each stays on its replica', async () => {
    await writeFile(join(dir, 'stack.yaml'), STACK.replace('router: {scheduler: {}, route: {}, gateway: {}}', `router:${WITH_NO_HIT_LRU}`))
    const applied = await runCli(['apply', '-f', join(dir, 'stack.yaml'), '--state-dir', stack.stateDir])
    expect(applied.stderr).toBe('')
    expect(await stack.get('pools')).toMatch(/inline/)
    const placed = await run(url, 99, 'default + no-hit-lru-scorer')
    expect(placed.affinity).toBeGreaterThanOrEqual(0.9)
    // Cold groups go to the replica least recently given one: every replica gets groups. Not always exactly two each: a
    // replica whose queue shows a request not yet scheduled (waiting 1 for a scrape) loses the queue scorer's 2 points.
    expect(placed.perReplica.filter((r) => r.groups.length > 0)).toHaveLength(4)
    expect(Math.max(...placed.perReplica.map((r) => r.groups.length))).toBeLessThanOrEqual(3)
  }, 120_000)
})

function metric(text: string, name: string): number {
  let sum = 0
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  return sum
}
