/**
 * `npm run bench:routing`: the seed's experiment on simulated replicas, comparing routing strategies in one run.
 *  - seed: 100 requests sharing a long prefix (the seed measured an 86% prefix-cache hit rate with llm-d).
 *  - multi-tenant: many groups of shared prefixes, Poisson arrivals.
 * Strategies: round-robin, random (random-picker), load-only (queue 2 + kv 2), default (queue 2, kv 2, prefix 3: the
 * approximate index), precise (the same weights, the prefix scorer fed by the replicas' KV events), and an oracle that
 * knows each request's group (sticky by group: the best achievable affinity) as the reference.
 * Hit rate comes from the simulators' own `vllm:prefix_cache_hits_total / vllm:prefix_cache_queries_total`; TTFT is
 * each engine's own (simulated ms, so it does not depend on TIME_SCALE); fresh replicas for every run.
 */
import { availableParallelism, loadavg } from 'node:os'
import { request } from 'undici'
import { parse } from 'yaml'
import { parsePrometheusText } from '../src/picker/datalayer/prometheus-text.js'
import type { EndpointRef } from '../src/picker/endpoint.js'
import { createInProcessPicker } from '../src/picker/in-process-picker.js'
import { startSimulator, type RunningSimulator } from '../src/sim/start-simulator.js'

const REPLICAS = 4
const TIME_SCALE = Number(process.env.TIME_SCALE ?? 2)
/**
 * KV blocks per replica (16 tokens each): 2500 blocks ≈ 40k tokens, room for ~12 of the 16 tenant documents, so a
 * router that spreads every tenant over every replica thrashes the cache while one that keeps tenants apart does not
 * (the regime of llm-d's "KV-cache wins" benchmark, where cache demand was ~73% of cluster KV).
 */
const BLOCKS = Number(process.env.BLOCKS ?? 2500)
const RATE = Number(process.env.RATE ?? 24)
const MODEL = 'Qwen/Qwen3-0.6B'

interface Req {
  group: number
  prompt: string
  maxTokens: number
  /** Simulated ms after the start of the workload. */
  at: number
}

/** Deterministic PRNG so every strategy sees the same workload. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WORDS = 'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her'.split(' ')
function text(r: () => number, words: number): string {
  return Array.from({ length: words }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ')
}

/** The seed: 100 requests, one long shared system prefix, a short unique question each, 4 in flight at a time. */
function seedWorkload(): { reqs: Req[]; concurrency: number } {
  const r = rng(1)
  const prefix = `You are the support assistant of ACME Corp. Policy manual follows. ${text(r, 1500)}\n\n`
  return { reqs: Array.from({ length: 100 }, (_, i) => ({ group: 0, prompt: `${prefix}Question ${i}: ${text(r, 20)}?`, maxTokens: 16, at: 0 })), concurrency: 4 }
}

/** Many tenants: 16 groups × 12 requests, each group a long shared document, Poisson arrivals at RATE req/s (simulated). */
function multiTenantWorkload(): { reqs: Req[]; concurrency: number } {
  const r = rng(2)
  const groups = 16
  const rate = RATE
  const docs = Array.from({ length: groups }, (_, g) => `Tenant ${g} knowledge base. ${text(r, 3000)}\n\n`)
  const order = Array.from({ length: groups * 12 }, (_, i) => i % groups).sort(() => r() - 0.5)
  let t = 0
  return {
    reqs: order.map((g) => {
      t += (-Math.log(1 - r()) / rate) * 1000
      return { group: g, prompt: `${docs[g]}User asks: ${text(r, 60)}?`, maxTokens: 48, at: t }
    }),
    concurrency: Infinity,
  }
}

type Route = (req: Req, requestId: string) => Promise<{ ref: EndpointRef; done: () => void }>

interface Strategy {
  name: string
  make(refs: EndpointRef[]): { route: Route; close(): Promise<void> }
}

/** A picker config behind `replicas` picker processes' worth of state (active-active: requests alternate between them). */
const pickerStrategy = (name: string, config: unknown, replicas = 1): Strategy => ({
  name,
  make(refs) {
    const pickers = Array.from({ length: replicas }, () => createInProcessPicker({ config, poolName: 'bench', scrapeIntervalMs: 50 }))
    for (const picker of pickers) picker.setEndpoints(refs)
    let next = 0
    return {
      route: async (req, requestId) => {
        const picker = pickers[next++ % pickers.length]!
        const d = await picker.pick({ requestId, path: '/v1/completions', headers: {}, body: { model: MODEL, prompt: req.prompt, max_tokens: req.maxTokens } })
        return { ref: d.endpoint, done: () => picker.complete({ decision: d, requestId, endpoint: d.endpoint, status: 200 }) }
      },
      close: async () => {
        await Promise.all(pickers.map((p) => p.close()))
      },
    }
  },
})

/** The default config's weights with the prefix scorer fed by the replicas' KV events instead of the approximate index. */
const PRECISE_CONFIG = parse(`
plugins: [{type: queue-scorer}, {type: kv-cache-utilization-scorer}, {type: precise-prefix-cache-producer}, {type: prefix-cache-scorer}, {type: max-score-picker}]
schedulingProfiles:
- name: default
  plugins: [{pluginRef: queue-scorer, weight: 2}, {pluginRef: kv-cache-utilization-scorer, weight: 2}, {pluginRef: prefix-cache-scorer, weight: 3}, {pluginRef: max-score-picker}]`)

const STRATEGIES: Strategy[] = [
  {
    name: 'round-robin',
    make(refs) {
      let next = 0
      return { route: async () => ({ ref: refs[next++ % refs.length]!, done: () => {} }), close: async () => {} }
    },
  },
  pickerStrategy('random', parse('plugins: [{type: random-picker}]')),
  pickerStrategy('load-only (queue+kv)', parse(`
plugins: [{type: queue-scorer}, {type: kv-cache-utilization-scorer}]
schedulingProfiles: [{name: default, plugins: [{pluginRef: queue-scorer, weight: 2}, {pluginRef: kv-cache-utilization-scorer, weight: 2}]}]`)),
  pickerStrategy('default (q2 kv2 prefix3)', undefined),
  pickerStrategy('precise (q2 kv2 precise3)', PRECISE_CONFIG),
  {
    name: 'oracle (sticky by group)',
    make(refs) {
      return { route: async (req) => ({ ref: refs[req.group % refs.length]!, done: () => {} }), close: async () => {} }
    },
  },
]

interface RunResult {
  strategy: string
  hitRate: number
  ttftP50: number
  ttftP90: number
  throughput: number
  perReplica: number[]
  errors: number
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN
}

async function metricSum(url: string, name: string): Promise<number> {
  const res = await request(`${url}/metrics`)
  const samples = parsePrometheusText(await res.body.text()).get(name) ?? []
  return samples.reduce((a, s) => a + s.value, 0)
}

async function run(strategy: Strategy, workload: { reqs: Req[]; concurrency: number }): Promise<RunResult> {
  const ttfts: number[] = []
  let outputTokens = 0
  const sims: RunningSimulator[] = []
  for (let i = 0; i < REPLICAS; i++) {
    sims.push(
      await startSimulator(
        // Every replica publishes its KV events (whether or not the strategy listens), so all runs pay the same.
        { port: 0, timeScale: TIME_SCALE, seed: i, model: MODEL, numGpuBlocks: BLOCKS, kvEvents: { endpoint: 'tcp://127.0.0.1:*' } },
        {
          requestFinished: (req) => {
            if (req.firstTokenMs !== null) ttfts.push(req.firstTokenMs - req.arrivalMs)
            outputTokens += req.numGenerated
          },
        },
      ),
    )
  }
  const refs: EndpointRef[] = sims.map((s, i) => ({ id: `bench/replica-${i}`, name: `replica-${i}`, namespace: 'bench', address: `127.0.0.1:${s.port}`, url: s.url, labels: {}, ...(s.kvEvents ? { kvEvents: s.kvEvents } : {}) }))
  const router = strategy.make(refs)
  // Subscriptions and the tokenizer settle before the first request, as in a picker that has been up a while.
  await new Promise((r) => setTimeout(r, 300))
  const perReplica = refs.map(() => 0)
  let errors = 0
  const start = performance.now()
  const send = async (req: Req, i: number) => {
    const { ref, done } = await router.route(req, `r${i}`)
    perReplica[refs.indexOf(ref)]!++
    try {
      const res = await request(`${ref.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, prompt: req.prompt, max_tokens: req.maxTokens, ignore_eos: true }),
      })
      await res.body.text()
      if (res.statusCode !== 200) errors++
    } catch {
      errors++
    } finally {
      done()
    }
  }
  if (workload.concurrency === Infinity) {
    // Open loop: each request leaves at its own (scaled) arrival time.
    await Promise.all(
      workload.reqs.map(async (req, i) => {
        await new Promise((r) => setTimeout(r, req.at / TIME_SCALE))
        await send(req, i)
      }),
    )
  } else {
    let next = 0
    await Promise.all(
      Array.from({ length: workload.concurrency }, async () => {
        while (next < workload.reqs.length) {
          const i = next++
          await send(workload.reqs[i]!, i)
        }
      }),
    )
  }
  const simulatedSeconds = ((performance.now() - start) * TIME_SCALE) / 1000
  let hits = 0
  let queries = 0
  for (const s of sims) {
    hits += await metricSum(s.url, 'vllm:prefix_cache_hits_total')
    queries += await metricSum(s.url, 'vllm:prefix_cache_queries_total')
  }
  await router.close()
  await Promise.all(sims.map((s) => s.close()))
  return { strategy: strategy.name, hitRate: queries > 0 ? hits / queries : 0, ttftP50: quantile(ttfts, 0.5), ttftP90: quantile(ttfts, 0.9), throughput: outputTokens / simulatedSeconds, perReplica, errors }
}

function table(title: string, results: RunResult[]): string {
  const head = ['strategy'.padEnd(26), 'hit rate', 'TTFT p50 ms', 'TTFT p90 ms', 'out tok/s', 'per replica'.padEnd(16), 'errors']
  const rows = results.map((r) =>
    [
      r.strategy.padEnd(26),
      `${(r.hitRate * 100).toFixed(1)}%`.padStart(8),
      r.ttftP50.toFixed(0).padStart(11),
      r.ttftP90.toFixed(0).padStart(11),
      r.throughput.toFixed(0).padStart(9),
      r.perReplica.join('/').padEnd(16),
      String(r.errors).padStart(6),
    ].join('  '),
  )
  return [`\n${title}`, head.join('  '), ...rows].join('\n')
}

/** The precise column against the approximate index (default config) and the oracle's hit rate (the best achievable). */
function preciseSummary(results: RunResult[]): string {
  const find = (prefix: string) => results.find((r) => r.strategy.startsWith(prefix))!
  const precise = find('precise')
  const approx = find('default')
  const oracle = find('oracle')
  const p90 = precise.ttftP90 / approx.ttftP90
  const hit = precise.hitRate - oracle.hitRate
  return (
    `precise vs approximate index: TTFT p90 ${precise.ttftP90.toFixed(0)} vs ${approx.ttftP90.toFixed(0)} ms = ${p90.toFixed(2)}× (goal ≤ 0.5×: ${p90 <= 0.5 ? 'met' : 'not met'}); ` +
    `hit rate ${(precise.hitRate * 100).toFixed(1)}% vs best achievable ${(oracle.hitRate * 100).toFixed(1)}% = ${(hit * 100).toFixed(1)} points (goal within 2: ${Math.abs(hit) <= 0.02 || hit > 0 ? 'met' : 'not met'})`
  )
}

async function main() {
  console.log(
    `routing bench: ${REPLICAS} simulated replicas (${MODEL}, nvidia-t4 profile, ${BLOCKS} KV blocks each), time scale ${TIME_SCALE}×, ` +
      `load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores`,
  )
  for (const [title, make] of [
    ["seed experiment: 100 requests sharing a ~1.5k-word prefix, 4 in flight (seed: 86% hit rate)", seedWorkload],
    [`multi-tenant: 16 groups × 12 requests, ~3k-word shared documents, Poisson ${RATE} req/s`, multiTenantWorkload],
  ] as const) {
    const results: RunResult[] = []
    for (const s of STRATEGIES) results.push(await run(s, make()))
    console.log(table(title, results))
    console.log(preciseSummary(results))
  }
  // Two picker replicas (active-active HA) in front of the same replicas: each approximate index sees half the traffic,
  // while the KV events tell both everything.
  const ha = [
    pickerStrategy('default ×2 pickers', undefined, 2),
    pickerStrategy('precise ×2 pickers', PRECISE_CONFIG, 2),
    STRATEGIES.find((s) => s.name.startsWith('oracle'))!,
  ]
  const results: RunResult[] = []
  for (const s of ha) results.push(await run(s, multiTenantWorkload()))
  console.log(table(`multi-tenant behind 2 picker replicas (active-active), requests alternating between them`, results))
  console.log(preciseSummary(results))
}

await main()
