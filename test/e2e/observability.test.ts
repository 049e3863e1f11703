import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { doctor, findings } from './doctor-fixtures.js'
import { BIN, runCli, startStack, type StackProcess } from './stack-process.js'
import { freePort } from '../free-port.js'

const MODEL = 'Qwen/Qwen3-0.6B'
const CHROMIUM = '/usr/bin/chromium'
const DASHBOARDS = ['epp-routing', 'vllm-performance'].map((name) => ({
  name,
  json: JSON.parse(readFileSync(new URL(`../../dashboards/${name}.json`, import.meta.url), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] },
}))

/** Every panel query of both dashboards, with Grafana's rate interval filled in. */
const panelQueries = DASHBOARDS.flatMap((d) => d.json.panels.flatMap((p) => p.targets.map((t) => ({ panel: `${d.name}: ${p.title}`, expr: t.expr.replaceAll('$__rate_interval', '1m') }))))

const PROMQL_WORDS = new Set(['sum', 'avg', 'max', 'min', 'count', 'rate', 'irate', 'increase', 'histogram_quantile', 'by', 'without', 'on', 'ignoring', 'topk', 'bottomk', 'deriv', 'avg_over_time', 'clamp_min', 'clamp_max', 'and', 'or', 'unless'])

/** The metric names a PromQL expression reads: identifiers outside label matchers, grouping clauses and ranges. */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
  return (bare.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []).filter((w) => !PROMQL_WORDS.has(w))
}

/** Series names a Prometheus text exposition offers (histograms as their _bucket, _sum and _count series). */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>()
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m
    names.add(name!)
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s)
  }
  return names
}

/** A chat completion through the default stack's route; with `explainId`, explained (`x-maitred-explain: 1`) under that request id. */
async function chat(gw: string, content: string, stream: boolean, explainId?: string): Promise<Response> {
  const res = await fetch(`${gw}/my-first-model/qwen3-0-6b/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(explainId ? { 'x-maitred-explain': '1', 'x-request-id': explainId } : {}) },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], max_tokens: 4, stream, ...(stream ? { stream_options: { include_usage: true } } : {}) }),
  })
  await res.text()
  return res
}

interface EndpointStatus {
  id: string
  url: string
}

/**
 * One default stack for everything that watches it: metrics and dashboards (with a real Prometheus), the access log and
 * `maitred logs`, `maitred doctor` on a healthy stack, and the live page in Chromium (last: it kills a replica).
 */
describe('observing a running default stack', () => {
  let stack: StackProcess
  let endpoints: EndpointStatus[]
  const shared = 'You are a helpful assistant that answers questions about the maitred gateway in detail. '.repeat(8)

  beforeAll(async () => {
    stack = await startStack(['--time-scale', '20'])
    endpoints = JSON.parse(await stack.get('endpoints', true)) as EndpointStatus[]
    const gw = stack.gatewayUrl()
    for (let i = 0; i < 6; i++) {
      expect((await chat(gw, `${shared} question ${i}`, false)).status).toBe(200)
      expect((await chat(gw, `${shared} streamed ${i}`, true)).status).toBe(200)
    }
    // A request the picker refuses (no "model"), so the error panels have a series.
    const refused = await fetch(`${gw}/my-first-model/qwen3-0-6b/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }) })
    expect(refused.status).toBe(400)
  }, 90_000)
  afterAll(() => stack?.stop())

  it('exports every metric name the dashboards query (gateway and picker on the admin API, vLLM on the model servers)', async () => {
    const texts = await Promise.all([stack.state.admin, ...endpoints.map((e) => e.url)].map((u) => fetch(`${u}/metrics`).then((r) => r.text())))
    const exported = new Set(texts.flatMap((t) => [...exposedNames(t)]))
    const missing = panelQueries.flatMap((q) => metricNames(q.expr).filter((n) => !exported.has(n)).map((n) => `${q.panel}: ${n}`))
    expect(missing).toEqual([])
    // The check itself sees the names: every panel reads at least one metric.
    expect(panelQueries.every((q) => metricNames(q.expr).length > 0)).toBe(true)
  })

  it('logs TTFT (streamed) and usage tokens, streamed or not', async () => {
    const records = (await stack.accessLog()).filter((r) => r.method === 'POST' && r.response_code === 200)
    expect(records).toHaveLength(12)
    for (const r of records) {
      expect(r.prompt_tokens).toBeGreaterThan(100)
      expect(r.completion_tokens).toBeGreaterThan(0)
      expect(r.completion_tokens).toBeLessThanOrEqual(4)
      expect(r.cached_tokens).toEqual(expect.any(Number))
    }
    const streamed = records.filter((r) => r.ttft_ms !== undefined)
    expect(streamed).toHaveLength(6)
    for (const r of streamed) expect(r.ttft_ms as number).toBeLessThanOrEqual(r.duration_ms as number)
    expect(records.some((r) => (r.cached_tokens as number) > 0)).toBe(true)
  })

  it('maitred logs prints one line per request, filtered, and follows the running stack\'s log', async () => {
    await stack.accessLog() // past the gateway's flush interval
    const refused = await runCli(['logs', '--state-dir', stack.stateDir, '--status', '4xx'])
    expect(refused.code).toBe(0)
    expect(refused.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^\[.*\] "POST \/my-first-model\/qwen3-0-6b\/v1\/chat\/completions HTTP\/1.1" 400 /)])
    const served = await runCli(['logs', '--state-dir', stack.stateDir, '--route', 'qwen3-0-6b-kserve-route', '--status', '2xx'])
    const lines = served.stdout.trim().split('\n')
    expect(lines.length).toBeGreaterThanOrEqual(12)
    expect(lines.filter((l) => /ttft=\d+ms tokens=\d+→\d+/.test(l))).toHaveLength(6)

    const follow = spawn(process.execPath, [BIN, 'logs', '--follow', '--state-dir', stack.stateDir, '--status', '404'], { stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      let out = ''
      follow.stdout!.on('data', (d: Buffer) => (out += d.toString()))
      await new Promise((r) => setTimeout(r, 1000))
      expect((await fetch(`${stack.gatewayUrl()}/no/such/route`)).status).toBe(404)
      await expect.poll(() => out, { timeout: 10_000 }).toMatch(/"GET \/no\/such\/route HTTP\/1.1" 404 NR /)
    } finally {
      follow.kill()
    }
  }, 30_000)

  describe.skipIf(spawnSync('prometheus', ['--version']).status !== 0)('scraped by a real Prometheus', () => {
    let prom: ChildProcess
    let dir: string
    let api: string

    beforeAll(async () => {
      const port = await freePort()
      dir = mkdtempSync(join(tmpdir(), 'maitred-prom-'))
      const target = (u: string) => new URL(u).host
      writeFileSync(
        join(dir, 'prometheus.yml'),
        `global: {scrape_interval: 1s}
scrape_configs:
  - job_name: maitred
    static_configs: [{targets: ['${target(stack.state.admin)}']}]
  - job_name: model-servers
    static_configs: [{targets: [${endpoints.map((e) => `'${target(e.url)}'`).join(', ')}]}]
`,
      )
      prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' })
      api = `http://127.0.0.1:${port}/api/v1`
    }, 30_000)
    afterAll(async () => {
      if (prom && prom.exitCode === null) {
        prom.kill('SIGTERM')
        await new Promise((r) => prom.once('exit', r))
      }
      rmSync(dir, { recursive: true, force: true })
    })

    it("returns data for every dashboard panel's query", async () => {
      const query = async (expr: string) => {
        const body = (await fetch(`${api}/query?query=${encodeURIComponent(expr)}`).then((r) => r.json()).catch(() => null)) as { status?: string; data?: { result: unknown[] }; error?: string } | null
        if (body?.status === 'error') throw new Error(`${expr}: ${body.error}`)
        return body?.data?.result.length ?? 0
      }
      // Two scrapes of every target after the traffic, so rates have two samples.
      let empty = panelQueries
      for (let i = 0; i < 60 && empty.length > 0; i++) {
        await new Promise((r) => setTimeout(r, 500))
        if (i % 4 === 0) await chat(stack.gatewayUrl(), `${shared} during scrape ${i}`, i % 8 === 0)
        const results = await Promise.all(empty.map(async (q) => ({ q, n: await query(q.expr) })))
        empty = results.filter((r) => r.n === 0).map((r) => r.q)
      }
      expect(empty.map((q) => `${q.panel}: ${q.expr}`)).toEqual([])
    }, 60_000)
  })

  describe('maitred doctor on the default stack', () => {
    it('passes every check, probing chat, body, picker decision and prefix-cache hits through the gateway', async () => {
      const { code, report } = await doctor(['--state-dir', stack.stateDir])
      expect(report.checks.filter((c) => c.outcome !== 'pass').map((c) => c.findings)).toEqual([])
      expect(code).toBe(0)
      expect(report.checks.map((c) => c.id)).toEqual([
        'gateways-listening',
        'routes-resolved',
        'pools-ready',
        'picker-consulted',
        'body-reaches-server',
        'upstream-tls',
        'pd-config',
        'prefix-caching-enabled',
        'prefix-cache-hits',
        'model-name',
        'door-chat',
      ])
      expect(findings(report, 'model-name', 'qwen3-0-6b-kserve-route')[0]!.message).toMatch(/"Qwen\/Qwen3-0.6B" — not "qwen3-0-6b"/)
      expect(findings(report, 'prefix-cache-hits', 'qwen3-0-6b-kserve-route')[0]!.message).toMatch(/found [1-9]\d* of \d+ prompt tokens cached/)
    }, 30_000)

    it('prints a ✓ checklist', async () => {
      const r = await runCli(['doctor', '--state-dir', stack.stateDir])
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/^✓ Request bodies reach the model server/m)
      expect(r.stdout).toMatch(/11 passed, 0 failed/)
    }, 30_000)

    it('checks the embedded default config before it runs', async () => {
      const { code, report } = await doctor(['-f', 'examples/seed-cluster.yaml'])
      expect(code).toBe(0)
      expect(report.mode).toBe('static')
    }, 30_000)
  })

  /** Last: it kills a replica. Debian's Chromium, headless (skipped where it is not installed: CI installs it). */
  describe.skipIf(!existsSync(CHROMIUM))('the live page in headless Chromium', () => {
    let browser: Browser
    let page: Page
    const stat = (endpoint: string, name: string) => page.locator(`[data-endpoint="${endpoint}"] [data-stat="${name}"]`).textContent()
    const answered = async (ids: string[]) => (await Promise.all(ids.map((e) => stat(e, 'requests')))).reduce((n, t) => n + Number(t), 0)

    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      })
      page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    }, 30_000)
    afterAll(() => browser?.close())

    it('is printed at start and draws gateways, routes, pools and both endpoints up', async () => {
      expect(stack.stdout()).toContain(`Live page   ${stack.state.ui}`)
      await page.goto(stack.state.ui!)
      await expect.poll(() => page.locator('[data-endpoint][data-healthy="true"]').count(), { timeout: 10_000 }).toBe(2)
      expect((await page.locator('#gateways .node').allTextContents()).sort()).toEqual([
        expect.stringContaining('openshift-ingress/maas-gateway'),
        expect.stringContaining('openshift-ingress/openshift-ai-inference'),
      ])
      expect((await page.locator('#routes .node').allTextContents()).sort()).toEqual([
        expect.stringContaining('my-first-model/qwen3-0-6b-kserve-route'),
        expect.stringContaining('my-first-model/qwen3-0-6b-maas-route'),
      ])
      expect(await page.locator('#pools .node').allTextContents()).toEqual([expect.stringContaining('qwen3-0-6b-inference-pool')])
      // Two gateways → their routes → one pool → 2 endpoints.
      expect(await page.locator('#links path').count()).toBe(6)
    }, 30_000)

    it('updates under traffic: request counts and share, prefix hits, and the explained decisions', async () => {
      const endpoints = await page.locator('[data-endpoint]').evaluateAll((els) => els.map((e) => e.getAttribute('data-endpoint')!))
      const before = await answered(endpoints)
      for (let i = 0; i < 8; i++) expect((await chat(stack.gatewayUrl(), `${shared} page ${i}`, false, i >= 6 ? `live-page-${i}` : undefined)).status).toBe(200)
      await expect.poll(() => answered(endpoints), { timeout: 10_000 }).toBe(before + 8)
      const shares = await Promise.all(endpoints.map((e) => stat(e, 'share')))
      expect(shares.reduce((sum, s) => sum + Number.parseFloat(s ?? '0'), 0)).toBeCloseTo(100, 0)
      expect((await Promise.all(endpoints.map((e) => stat(e, 'prefix')))).some((t) => Number.parseFloat(t ?? '0') > 0)).toBe(true)
      // Newest first: the last request sent with x-maitred-explain.
      await expect.poll(() => page.locator('details.decision').first().getAttribute('data-request'), { timeout: 10_000 }).toBe('live-page-7')
      const table = page.locator('details.decision').first().locator('table')
      expect(await table.locator('th').allTextContents()).toEqual(expect.arrayContaining(['profile', 'endpoint', 'prefix-cache-scorer', 'total', 'picked']))
      expect(await table.locator('tr.picked').count()).toBe(1)
      if (process.env.MAITRED_LIVE_PAGE_SCREENSHOT) await page.screenshot({ path: process.env.MAITRED_LIVE_PAGE_SCREENSHOT, fullPage: true })
    }, 30_000)

    it('shows a killed replica as down', async () => {
      const [victim] = JSON.parse(await stack.get('endpoints', true)) as { id: string; pid: number }[]
      process.kill(victim!.pid, 'SIGKILL')
      await expect.poll(() => page.locator(`[data-endpoint="${victim!.id}"]`).getAttribute('data-healthy'), { timeout: 10_000 }).toBe('false')
      expect(await page.locator(`[data-endpoint="${victim!.id}"] .badge`).textContent()).toBe('down')
      expect(await page.locator('[data-endpoint][data-healthy="true"]').count()).toBe(1)
    }, 30_000)
  })
})
