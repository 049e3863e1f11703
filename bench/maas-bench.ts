/**
 * npm run bench:maas — what the MaaS door costs over the open door, in one run. Two `maitred up` processes route to one
 * zero-latency upstream (bench/anchors/zero-latency-upstream.ts) through the same LLMInferenceService:
 *   open  no policy: route match, picker, proxy, access log
 *   maas  the same, plus an AuthPolicy taking an API key from the key store (SQLite), a RateLimitPolicy and a
 *         TokenRateLimitPolicy counted in Redis (limits far above what the run reaches, so nothing is refused; every
 *         request checks and reserves, and settles to its usage; streams get include_usage injected and stripped)
 * HTTP, non-streamed and streamed, concurrency 1 and 32: p50/p99 and each process's CPU time per request, the doors taking
 * turns within each round (BENCH_ROUNDS, default 3, of BENCH_SECONDS, default 2); then both doors loaded at once
 * (BENCH_SIDE_BY_SIDE_ROUNDS, default 5), the steadiest CPU ratio on a shared machine. Needs Redis (BENCH_REDIS, default
 * redis://127.0.0.1:6379; keys under a prefix of this run's own). The MaaS door runs with `maitred up`'s default
 * `--ratelimit-headers none`; BENCH_RATELIMIT_HEADERS=draft-03 measures admitted answers carrying the rate-limit headers.
 */
import { randomUUID } from 'node:crypto'
import { request } from 'undici'
import { startAnchor, type AnchorProcess } from './anchors/child-process.js'
import { formatLoadTable, median, medianResult, runLoad, type LoadResult } from './load.js'
import { startStackUnderTest, zeroLatencyModel, type StackUnderTest } from './stack-under-test.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2)
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3))
const SIDE_BY_SIDE_ROUNDS = Math.max(1, Number(process.env.BENCH_SIDE_BY_SIDE_ROUNDS ?? 5))
const REDIS = process.env.BENCH_REDIS ?? 'redis://127.0.0.1:6379'
const RATELIMIT_HEADERS = process.env.BENCH_RATELIMIT_HEADERS ?? 'none'
const MODES = ['non-streamed', 'streamed'] as const
const CONCURRENCY = [1, 32] as const
type Mode = (typeof MODES)[number]

const body = (stream: boolean) =>
  JSON.stringify({ model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'Hi, who are you?' }], max_tokens: 8, ...(stream ? { stream: true } : {}) })
const BODIES: Record<Mode, string> = { 'non-streamed': body(false), streamed: body(true) }

const openStack = (upstream: string) => `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: door, namespace: infra}
spec:
  listeners: [{name: http, protocol: HTTP, port: 8080, allowedRoutes: {namespaces: {from: All}}}]
${zeroLatencyModel(upstream, 'door')}`

const maasStack = (upstream: string) => `${openStack(upstream)}
---
apiVersion: kuadrant.io/v1
kind: AuthPolicy
metadata: {name: keys, namespace: infra}
spec:
  targetRef: {kind: Gateway, name: door}
  rules:
    authentication:
      api-keys: {apiKey: {keyStore: {}}}
    response:
      success:
        filters:
          identity: {json: {properties: {userid: {expression: auth.identity.userid}, tier: {expression: auth.identity.tier}}}}
---
apiVersion: maitred.dev/v1alpha1
kind: Tier
metadata: {name: bench, namespace: infra}
spec:
  limits:
    requests: [{limit: 1000000000, window: 1h}]
    tokens: [{limit: 1000000000000, window: 1h}]
`

interface Door {
  name: 'open' | 'maas'
  url: string
  pid: number
  headers: Record<string, string>
}

async function check(door: Door): Promise<void> {
  for (const mode of MODES) {
    let last = ''
    for (let i = 0; i < 100; i++) {
      const r = await request(door.url, { method: 'POST', headers: { 'content-type': 'application/json', ...door.headers }, body: BODIES[mode] })
      const text = await r.body.text()
      const ok = mode === 'streamed' ? text.endsWith('data: [DONE]\n\n') && !text.includes('"usage"') : text.includes('"chat.completion"')
      if (r.statusCode === 200 && ok) break
      last = `${r.statusCode} ${text.slice(0, 200)}`
      if (i === 99) throw new Error(`${door.name} ${mode}: ${last}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

const started: { stop(): Promise<void> }[] = []
const load = (d: Door, mode: Mode, connections: number) => runLoad(d.name, { url: d.url, body: BODIES[mode], connections, seconds: SECONDS, pids: [d.pid], headers: d.headers })
const ratio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]!))
try {
  const upstream: AnchorProcess = await startAnchor('zero-latency-upstream.ts', [])
  started.push(upstream)
  const upstreamUrl = `http://127.0.0.1:${upstream.ports.http}`
  const path = '/bench/qwen/v1/chat/completions'
  const adminToken = `bench-${randomUUID()}`
  process.env.MAITRED_ADMIN_TOKEN = adminToken
  const open: StackUnderTest = await startStackUnderTest(openStack(upstreamUrl))
  started.push(open)
  const maas: StackUnderTest = await startStackUnderTest(maasStack(upstreamUrl), [
    '--ratelimit-store',
    REDIS,
    '--ratelimit-prefix',
    `bench:${randomUUID()}:`,
    '--ratelimit-headers',
    RATELIMIT_HEADERS,
  ])
  started.push(maas)
  console.log(`maas door: counters in ${REDIS}, rate-limit headers on admitted answers: ${RATELIMIT_HEADERS}`)
  const created = await request(`${maas.state.keysAdmin!.url}/v1/api-keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tier: 'bench', name: 'bench' }),
  })
  const { key } = (await created.body.json()) as { key: string }
  const doors: Door[] = [
    { name: 'open', url: `${open.state.gateways[0]!.urls[0]}${path}`, pid: open.child.pid!, headers: {} },
    { name: 'maas', url: `${maas.state.gateways[0]!.urls[0]}${path}`, pid: maas.child.pid!, headers: { authorization: `Bearer ${key}` } },
  ]
  for (const d of doors) await check(d)

  const summary: string[] = []
  for (const mode of MODES) {
    for (const d of doors) await load(d, mode, 32)
    const cells: LoadResult[] = []
    for (const c of CONCURRENCY) {
      const rounds = { open: [] as LoadResult[], maas: [] as LoadResult[] }
      for (let round = 0; round < ROUNDS; round++) for (const d of doors) rounds[d.name].push(await load(d, mode, c))
      cells.push(medianResult(rounds.open), medianResult(rounds.maas))
      const cpu = ratio(
        rounds.maas.map((r) => r.cpuUsPerRequest!),
        rounds.open.map((r) => r.cpuUsPerRequest!),
      )
      const p50 = ratio(
        rounds.maas.map((r) => r.p50),
        rounds.open.map((r) => r.p50),
      )
      const p99 = ratio(
        rounds.maas.map((r) => r.p99),
        rounds.open.map((r) => r.p99),
      )
      summary.push(`  ${`${mode}, concurrency ${c}:`.padEnd(28)} CPU/req ${cpu.toFixed(2)}×  p50 ${p50.toFixed(2)}×  p99 ${p99.toFixed(2)}×`)
    }
    console.log(`\nHTTP, ${mode} (medians of ${ROUNDS} rounds of ${SECONDS} s):`)
    console.log(formatLoadTable(cells))
  }
  console.log('\nmaas ÷ open, doors taking turns (medians of the rounds\' ratios):')
  console.log(summary.join('\n'))

  console.log(`\nside by side: maas ÷ open CPU/req, both loaded at once (concurrency 16 each), ${SIDE_BY_SIDE_ROUNDS} rounds of ${SECONDS} s:`)
  for (const mode of MODES) {
    const ratios: number[] = []
    const cpu = { open: [] as number[], maas: [] as number[] }
    for (let round = 0; round <= SIDE_BY_SIDE_ROUNDS; round++) {
      const [o, m] = await Promise.all(doors.map((d) => load(d, mode, 16)))
      if (round === 0) continue // warm-up
      cpu.open.push(o!.cpuUsPerRequest!)
      cpu.maas.push(m!.cpuUsPerRequest!)
      ratios.push(m!.cpuUsPerRequest! / o!.cpuUsPerRequest!)
    }
    console.log(
      `  ${`${mode}:`.padEnd(14)} ${median(ratios).toFixed(2)}× (rounds ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}); maas ${median(cpu.maas).toFixed(0)} µs, open ${median(cpu.open).toFixed(0)} µs (goal < 1.25×)`,
    )
  }
} finally {
  for (const s of started.reverse()) await s.stop()
}
