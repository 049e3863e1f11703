import { createServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { fetch as undiciFetch } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import type { EndpointRef, UpstreamTls } from '../endpoint.js'
import { generateSelfSignedCertificate } from '../extproc/self-signed-certificate.js'
import { EndpointStore, type ScrapeFetch } from './endpoint-store.js'

/** A tiny model-server stand-in on 127.0.0.1 whose /metrics text and status the test controls. */
async function metricsServer(state: { status: number; waiting: number }): Promise<{ server: Server; ref: EndpointRef; hits: () => number }> {
  let hits = 0
  const server = createServer((req, res) => {
    hits++
    if (req.url !== '/metrics') return res.writeHead(404).end()
    res.writeHead(state.status, { 'content-type': 'text/plain; version=0.0.4' })
    res.end(`# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{model_name="m"} ${state.waiting}\nvllm:num_requests_running{model_name="m"} 1\nvllm:kv_cache_usage_perc{model_name="m"} 0.5\n`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { server, hits: () => hits, ref: { id: `ns/pod-${port}`, name: `pod-${port}`, namespace: 'ns', address: `127.0.0.1:${port}`, url: `http://127.0.0.1:${port}`, labels: {} } }
}

const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('EndpointStore', () => {
  const cleanups: (() => unknown)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c()
  })
  const store = (errors: string[] = []) => {
    const s = new EndpointStore({ intervalMs: 20, path: '/metrics', timeoutMs: 500, engineConfigs: [], fetch: globalThis.fetch, now: Date.now, onPollError: (_e, err) => errors.push(err) })
    cleanups.push(() => s.close())
    return s
  }
  const serve = async (state: { status: number; waiting: number }) => {
    const m = await metricsServer(state)
    cleanups.push(() => new Promise((r) => m.server.close(r)))
    return m
  }

  it('scrapes on an interval and tracks the latest values', async () => {
    const state = { status: 200, waiting: 2 }
    const { ref } = await serve(state)
    const s = store()
    s.setEndpoints([ref])
    await s.firstScrapes(2000)
    expect(s.states()[0]).toMatchObject({ healthy: true, metrics: { waitingQueueSize: 2, runningRequestsSize: 1, kvCacheUsagePercent: 0.5 } })
    state.waiting = 9
    await until(() => s.states()[0]!.metrics?.waitingQueueSize === 9)
  })

  it('marks an endpoint unhealthy while scrapes fail and brings it back', async () => {
    const state = { status: 200, waiting: 0 }
    const { ref } = await serve(state)
    const errors: string[] = []
    const s = store(errors)
    s.setEndpoints([ref])
    await s.firstScrapes(2000)
    state.status = 500
    await until(() => !s.states()[0]!.healthy)
    expect(s.states()[0]!.lastError).toContain('HTTP 500')
    expect(errors.length).toBeGreaterThan(0)
    state.status = 200
    await until(() => s.states()[0]!.healthy)
    expect(s.states()[0]!.lastError).toBeUndefined()
  })

  it('reports a connection refused endpoint as unhealthy without waiting for the timeout', async () => {
    const { ref, server } = await serve({ status: 200, waiting: 0 })
    await new Promise((r) => server.close(r))
    const s = store()
    s.setEndpoints([ref])
    await s.firstScrapes(2000)
    expect(s.states()[0]).toMatchObject({ healthy: false, lastError: 'ECONNREFUSED' })
  })

  it('fails a scrape that outlasts the timeout, and aborts the one in flight on close', async () => {
    const signals: AbortSignal[] = []
    // A server that never answers: each scrape ends only through its signal.
    const hanging: ScrapeFetch = (_url, init) => {
      signals.push(init.signal)
      return new Promise((_resolve, reject) => init.signal.addEventListener('abort', () => reject(init.signal.reason as Error)))
    }
    const s = new EndpointStore({ intervalMs: 10, path: '/metrics', timeoutMs: 40, engineConfigs: [], fetch: hanging, now: Date.now })
    cleanups.push(() => s.close())
    s.setEndpoints([{ id: 'ns/hang', name: 'hang', namespace: 'ns', address: '127.0.0.1:9', url: 'http://127.0.0.1:9', labels: {} }])
    await s.firstScrapes(2000)
    expect(s.states()[0]).toMatchObject({ healthy: false, lastError: 'scrape timed out' })
    await until(() => signals.length >= 2)
    const inFlight = signals.at(-1)!
    expect(inFlight.aborted).toBe(false)
    s.close()
    expect(inFlight.aborted).toBe(true)
  })

  it('stops polling removed endpoints and on close', async () => {
    const a = await serve({ status: 200, waiting: 0 })
    const b = await serve({ status: 200, waiting: 0 })
    const s = store()
    s.setEndpoints([a.ref, b.ref])
    await s.firstScrapes(2000)
    expect(s.setEndpoints([b.ref])).toEqual([a.ref.id])
    await new Promise((r) => setTimeout(r, 50))
    const hitsA = a.hits()
    await new Promise((r) => setTimeout(r, 100))
    expect(a.hits()).toBe(hitsA)
    expect(s.states().map((x) => x.endpoint.id)).toEqual([b.ref.id])
    s.close()
    await new Promise((r) => setTimeout(r, 50))
    const hitsB = b.hits()
    await new Promise((r) => setTimeout(r, 100))
    expect(b.hits()).toBe(hitsB)
  })

  it('scrapes HTTPS endpoints with their own TLS settings: CA, server name, verification', async () => {
    // A vLLM serving HTTPS with a certificate for `localhost` only, reached at 127.0.0.1 (like a pod IP).
    const pair = await generateSelfSignedCertificate(['localhost'], 'vllm')
    const server = createHttpsServer({ cert: pair.cert, key: pair.key }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      res.end('vllm:num_requests_waiting{model_name="m"} 3\nvllm:num_requests_running{model_name="m"} 1\nvllm:kv_cache_usage_perc{model_name="m"} 0.25\n')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise((r) => server.close(r)))
    const { port } = server.address() as AddressInfo
    const ref = (name: string, tls?: UpstreamTls): EndpointRef => ({
      id: `ns/${name}`,
      name,
      namespace: 'ns',
      address: `127.0.0.1:${port}`,
      url: `https://127.0.0.1:${port}`,
      labels: {},
      ...(tls ? { tls } : {}),
    })
    const s = new EndpointStore({ intervalMs: 20, path: '/metrics', timeoutMs: 1000, engineConfigs: [], fetch: undiciFetch, now: Date.now })
    cleanups.push(() => s.close())
    s.setEndpoints([
      ref('trusted', { ca: pair.cert, serverName: 'localhost' }),
      ref('unknown-ca'),
      ref('wrong-name', { ca: pair.cert }),
      ref('skip-verify', { insecureSkipVerify: true }),
    ])
    await s.firstScrapes(3000)
    const byName = Object.fromEntries(s.states().map((x) => [x.endpoint.name, x]))
    expect(byName.trusted).toMatchObject({ healthy: true, metrics: { waitingQueueSize: 3, kvCacheUsagePercent: 0.25 } })
    expect(byName['skip-verify']).toMatchObject({ healthy: true, metrics: { waitingQueueSize: 3 } })
    expect(byName['unknown-ca']).toMatchObject({ healthy: false, lastError: 'DEPTH_ZERO_SELF_SIGNED_CERT' })
    expect(byName['wrong-name']).toMatchObject({ healthy: false, lastError: 'ERR_TLS_CERT_ALTNAME_INVALID' })

    // New TLS settings for the same endpoint take effect (a new pool), like a rotated CA.
    s.setEndpoints([ref('unknown-ca', { ca: pair.cert, serverName: 'localhost' })])
    await until(() => s.states()[0]?.healthy === true)
  })
})
