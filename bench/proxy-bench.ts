/**
 * npm run bench:proxy — what the gateway costs, against two anchors, in one run. Four targets share one zero-latency
 * OpenAI-shaped upstream (bench/anchors/zero-latency-upstream.ts, its own process), so the proxy is what gets measured:
 *   direct   the upstream itself
 *   maitred  `maitred up` with the default stack's full pipeline: route match, picker (scraping the upstream's /metrics),
 *            access log to a file
 *   nginx    a plain keep-alive reverse proxy (bench/nginx/nginx.conf; skipped with a hint when nginx is not installed)
 *   undici   a bare node:http + undici Pool proxy (bench/anchors/undici-proxy.ts)
 * over HTTP and HTTPS (to the proxy; upstream stays plain HTTP), non-streamed and streamed (SSE), at concurrency 1 and 64:
 * requests/s, p50/p99 latency, and the proxy process's CPU time per request and RSS (from /proc). Prints each proxy's
 * ratios to direct, to the undici proxy and to nginx. Each cell is measured in BENCH_ROUNDS rounds (default 3) of
 * BENCH_SECONDS (default 2) per target, the targets taking turns within a round; tables show each figure's median over the
 * rounds, and each ratio is the median of the rounds' ratios (a ratio taken within one round compares targets measured
 * seconds apart, which matters on a shared machine whose speed drifts by 2× over minutes). A last section loads maitred
 * and the undici proxy at the same time, BENCH_SIDE_BY_SIDE_ROUNDS rounds (default 5) per protocol and mode: the steadiest
 * CPU ratio this machine gives, since both see the same drift and neither is measured cold after idling.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { LocalCertificateAuthority } from '../src/runtime/local-certificate-authority.js'
import { startAnchor, type AnchorProcess } from './anchors/child-process.js'
import { formatLoadTable, median, medianResult, runLoad, type LoadResult } from './load.js'
import { findNginx, startNginx, type NginxProcess } from './nginx/start-nginx.js'
import { startStackUnderTest, zeroLatencyModel, type StackUnderTest } from './stack-under-test.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2)
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3))
const WARM_UP_SECONDS = Math.max(1, Math.round(SECONDS / 2))
const PROTOCOLS = ['http', 'https'] as const
const MODES = ['non-streamed', 'streamed'] as const
const CONCURRENCY = [1, 64] as const
const SIDE_BY_SIDE_ROUNDS = Math.max(1, Number(process.env.BENCH_SIDE_BY_SIDE_ROUNDS ?? 5))
const SIDE_BY_SIDE_CONCURRENCY = 32
type Protocol = (typeof PROTOCOLS)[number]
type Mode = (typeof MODES)[number]

const body = (stream: boolean) =>
  JSON.stringify({ model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'Hi, who are you?' }], max_tokens: 8, ...(stream ? { stream: true } : {}) })
const BODIES: Record<Mode, string> = { 'non-streamed': body(false), streamed: body(true) }

/** The default stack's shape: an LLMInferenceService (route, InferencePool, default picker) whose one replica is the upstream. */
const stackYaml = (upstream: string) => `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: bench, namespace: infra}
spec:
  listeners:
  - {name: http, protocol: HTTP, port: 8080, allowedRoutes: {namespaces: {from: All}}}
  - name: https
    protocol: HTTPS
    port: 8443
    tls: {certificateRefs: [{name: bench-tls}]}
    allowedRoutes: {namespaces: {from: All}}
${zeroLatencyModel(upstream, 'bench')}`

interface Target {
  name: string
  url: Record<Protocol, string>
  /** The proxy's processes (none for direct). */
  pids: number[]
}

const insecure = new Agent({ connect: { rejectUnauthorized: false } })

/** Every target answers both modes correctly before anything is measured (and maitred's picker has scraped the upstream). */
async function check(target: Target): Promise<void> {
  for (const protocol of PROTOCOLS)
    for (const mode of MODES) {
      let last = ''
      for (let i = 0; i < 100; i++) {
        const r = await request(target.url[protocol], { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODIES[mode], dispatcher: insecure })
        const text = await r.body.text()
        // A stream must end as the upstream ended it, not with the gateway's error event for a broken upstream.
        if (r.statusCode === 200 && (mode === 'streamed' ? text.endsWith('data: [DONE]\n\n') && !text.includes('"error"') : text.includes('"chat.completion"'))) break
        last = `${r.statusCode} ${text.slice(0, 200)}`
        if (i === 99) throw new Error(`${target.name} ${protocol} ${mode}: ${last}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
}

/** Every round's result per `target|protocol|mode|concurrency`. */
type Results = Map<string, LoadResult[]>

function printRatios(results: Results, targets: readonly Target[]): void {
  type Metric = (r: LoadResult) => number | undefined
  // The median over rounds of the ratio within each round.
  const x = (rounds: LoadResult[], anchor: LoadResult[], metric: Metric) => {
    const ratios = rounds.flatMap((r, i) => {
      const a = metric(r)
      const b = metric(anchor[i]!)
      return a === undefined || b === undefined || b === 0 ? [] : [a / b]
    })
    return ratios.length === 0 ? '   -  ' : `${median(ratios).toFixed(2)}×`.padStart(6)
  }
  const anchors = ['direct', 'undici', 'nginx'].filter((n) => targets.some((t) => t.name === n))
  console.log('\nratios (each proxy ÷ an anchor; req/s: higher is better, p50 and CPU/req: lower is better):')
  for (const protocol of PROTOCOLS)
    for (const mode of MODES)
      for (const c of CONCURRENCY) {
        console.log(`  ${protocol.toUpperCase()} ${mode}, concurrency ${c}:`)
        for (const t of targets) {
          if (t.name === 'direct') continue
          const r = results.get(`${t.name}|${protocol}|${mode}|${c}`)!
          const parts = anchors
            .filter((a) => a !== t.name)
            .map((a) => {
              const b = results.get(`${a}|${protocol}|${mode}|${c}`)!
              const cpu = a === 'direct' ? '' : `  CPU ${x(r, b, (l) => l.cpuUsPerRequest)}`
              return `÷${a}: req/s ${x(r, b, (l) => l.rps)}  p50 ${x(r, b, (l) => l.p50)}${cpu}`
            })
          console.log(`    ${t.name.padEnd(8)} ${parts.join('   ')}`)
        }
      }
}

/**
 * maitred and the undici proxy loaded at the same time (half the concurrency each), so both see the same machine: a
 * round-to-round drift of the shared machine (±25 % within seconds) moves both alike, and neither is measured cold after
 * idling while the others ran. The first round warms both up and is not counted.
 */
async function printSideBySide(maitred: Target, undici: Target): Promise<void> {
  console.log(`\nside by side: maitred ÷ undici CPU/req, both loaded at once (concurrency ${SIDE_BY_SIDE_CONCURRENCY} each), ${SIDE_BY_SIDE_ROUNDS} rounds of ${SECONDS} s:`)
  for (const protocol of PROTOCOLS)
    for (const mode of MODES) {
      const ratios: number[] = []
      const cpu = { maitred: [] as number[], undici: [] as number[] }
      for (let round = 0; round <= SIDE_BY_SIDE_ROUNDS; round++) {
        const load = (t: Target) => runLoad(t.name, { url: t.url[protocol], body: BODIES[mode], connections: SIDE_BY_SIDE_CONCURRENCY, seconds: SECONDS, pids: t.pids })
        const [m, u] = await Promise.all([load(maitred), load(undici)])
        if (round === 0) continue
        cpu.maitred.push(m.cpuUsPerRequest!)
        cpu.undici.push(u.cpuUsPerRequest!)
        ratios.push(m.cpuUsPerRequest! / u.cpuUsPerRequest!)
      }
      const spread = `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`
      console.log(
        `  ${`${protocol.toUpperCase()} ${mode}:`.padEnd(22)} ${median(ratios).toFixed(2)}× (rounds ${spread}); maitred ${median(cpu.maitred).toFixed(0)} µs, undici ${median(cpu.undici).toFixed(0)} µs`,
      )
    }
}

const work = await mkdtemp(join(tmpdir(), 'maitred-bench-proxy-'))
const started: { stop(): Promise<void> }[] = []
try {
  const ca = await LocalCertificateAuthority.open(join(work, 'pki'))
  const cert = await ca.issue('bench', ['localhost', '127.0.0.1'])
  const tls = ['--cert', cert.certFile, '--key', cert.keyFile]

  const upstream: AnchorProcess = await startAnchor('zero-latency-upstream.ts', tls)
  started.push(upstream)
  const upstreamUrl = `http://127.0.0.1:${upstream.ports.http}`
  const PATH = '/v1/chat/completions'
  const urls = (http: number, https: number, path = PATH) => ({ http: `http://127.0.0.1:${http}${path}`, https: `https://127.0.0.1:${https}${path}` })

  const targets: Target[] = [{ name: 'direct', url: urls(upstream.ports.http, upstream.ports.https!), pids: [] }]

  const stack: StackUnderTest = await startStackUnderTest(stackYaml(upstreamUrl))
  started.push(stack)
  const [httpUrl, httpsUrl] = stack.state.gateways[0]!.urls
  const gatewayPath = '/bench/qwen/v1/chat/completions'
  targets.push({ name: 'maitred', url: { http: `${httpUrl}${gatewayPath}`, https: `${httpsUrl}${gatewayPath}` }, pids: [stack.child.pid!] })

  const nginxBinary = findNginx()
  if (nginxBinary) {
    const nginx: NginxProcess = await startNginx(nginxBinary, `127.0.0.1:${upstream.ports.http}`, cert)
    started.push(nginx)
    targets.push({ name: 'nginx', url: urls(nginx.ports.http, nginx.ports.https), pids: nginx.pids })
  } else console.log('nginx is not installed, so its rows are skipped; install it with: apt-get update && apt-get install -y nginx\n')

  const undiciProxy = await startAnchor('undici-proxy.ts', ['--upstream', upstreamUrl, ...tls])
  started.push(undiciProxy)
  targets.push({ name: 'undici', url: urls(undiciProxy.ports.http, undiciProxy.ports.https!), pids: [undiciProxy.child.pid!] })

  for (const t of targets) await check(t)

  const results: Results = new Map()
  const t0 = Date.now()
  for (const protocol of PROTOCOLS)
    for (const mode of MODES) {
      for (const t of targets) await runLoad('warm-up', { url: t.url[protocol], body: BODIES[mode], connections: 64, seconds: WARM_UP_SECONDS })
      const cells: LoadResult[] = []
      for (const c of CONCURRENCY) {
        // Targets take turns within each round, so a slow minute on the shared machine hurts them alike.
        for (let round = 0; round < ROUNDS; round++)
          for (const t of targets) {
            const r = await runLoad(t.name, { url: t.url[protocol], body: BODIES[mode], connections: c, seconds: SECONDS, pids: t.pids })
            const key = `${t.name}|${protocol}|${mode}|${c}`
            results.set(key, [...(results.get(key) ?? []), r])
          }
        for (const t of targets) cells.push(medianResult(results.get(`${t.name}|${protocol}|${mode}|${c}`)!))
      }
      console.log(`\n${protocol.toUpperCase()}, ${mode} (medians of ${ROUNDS} rounds of ${SECONDS} s):`)
      console.log(formatLoadTable(cells))
    }
  printRatios(results, targets)
  await printSideBySide(targets.find((t) => t.name === 'maitred')!, targets.find((t) => t.name === 'undici')!)
  console.log(`\nmeasured in ${((Date.now() - t0) / 1000).toFixed(0)} s; CPU/req and RSS are the proxy process's (nginx: master + worker) from /proc.`)
} finally {
  for (const s of started.reverse()) await s.stop()
  await insecure.close()
  await rm(work, { recursive: true, force: true })
}
