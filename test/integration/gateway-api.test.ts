import { mkdtemp } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseStackText } from '../../src/config/load-stack.js'
import { deriveStack } from '../../src/controller/derive-stack.js'
import { StackRuntime } from '../../src/runtime/stack-runtime.js'
import { startUpstream, type TestUpstream } from './upstreams.js'
import { freePort } from '../free-port.js'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()))
})

/** An upstream that reports what it received. */
const mirror = (name: string) =>
  startUpstream((req, res) => {
    res.setHeader('content-type', 'application/json')
    res.setHeader('x-upstream-secret', 'hide-me')
    res.end(JSON.stringify({ name, path: req.url, host: req.headers.host, headers: req.headers }))
  })

const server = (name: string, ns: string, app: string, url: string) => `---
apiVersion: maitred.dev/v1alpha1
kind: ModelServer
metadata: {name: ${name}, namespace: ${ns}, labels: {app: ${app}}}
spec: {external: {url: "${url}"}}
---
apiVersion: v1
kind: Service
metadata: {name: ${app}, namespace: ${ns}}
spec: {selector: {app: ${app}}, ports: [{port: 8000}]}
`

async function run(yaml: string, random = Math.random) {
  const { resources, errors } = parseStackText(yaml, 'test.yaml')
  expect(errors).toEqual([])
  const rt = await StackRuntime.start(deriveStack(resources), {
    bindHost: '127.0.0.1',
    listenerPort: () => 0,
    accessLog: 'off',
    stateDir: await mkdtemp(join(tmpdir(), 'maitred-gwapi-')),
    random,
  })
  cleanups.push(() => rt.close())
  return rt
}

/** A raw HTTP request (fetch would normalise the path and forbid the Host header). */
function send(url: string, path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method, headers }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** A port the OS has just handed out (and released), for tests that must put several listeners on one port. */

const gateway = (listeners: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  listeners:
${listeners}
`

describe('HTTPRoute filters', () => {
  it('modifies request and response headers, rewrites the full path and the host', async () => {
    const a = await mirror('a')
    cleanups.push(() => a.close())
    const rt = await run(
      gateway('  - {name: http, protocol: HTTP, port: 1, allowedRoutes: {namespaces: {from: All}}}') +
        server('a-0', 'app', 'a', a.url) +
        `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: app}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: X-Tenant, value: blue}]
        add: [{name: X-Trace, value: gw}]
        remove: [x-drop-me]
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        set: [{name: X-Served-Via, value: maitred}]
        remove: [x-upstream-secret]
    - type: URLRewrite
      urlRewrite: {hostname: internal.svc, path: {type: ReplaceFullPath, replaceFullPath: /v1/models}}
    backendRefs: [{name: a, port: 8000}]
`,
    )
    const res = await send(rt.listeners[0]!.url, '/api/anything?x=1', { 'x-tenant': 'red', 'x-trace': 'client', 'x-drop-me': '1' })
    expect(res.status).toBe(200)
    const seen = JSON.parse(res.body) as { path: string; host: string; headers: Record<string, string> }
    expect(seen.path).toBe('/v1/models?x=1')
    expect(seen.host).toBe('internal.svc')
    expect(seen.headers['x-tenant']).toBe('blue')
    expect(seen.headers['x-trace']).toBe('client,gw')
    expect(seen.headers['x-drop-me']).toBeUndefined()
    expect(res.headers['x-served-via']).toBe('maitred')
    expect(res.headers['x-upstream-secret']).toBeUndefined()
  })

  it('redirects (302 by default, scheme/port/path as configured)', async () => {
    const rt = await run(
      gateway('  - {name: http, protocol: HTTP, port: 1, allowedRoutes: {namespaces: {from: All}}}') +
        `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: app}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}}]
  - matches: [{path: {type: PathPrefix, value: /secure}}]
    filters: [{type: RequestRedirect, requestRedirect: {scheme: https, port: 8443, statusCode: 301}}]
`,
    )
    const url = rt.listeners[0]!.url
    const port = new URL(url).port
    const moved = await send(url, '/old/page?q=1', { host: 'example.com' })
    expect(moved.status).toBe(302)
    expect(moved.headers.location).toBe(`http://example.com:${port}/new/page?q=1`)
    const secure = await send(url, '/secure/x', { host: 'example.com' })
    expect(secure.status).toBe(301)
    expect(secure.headers.location).toBe('https://example.com:8443/secure/x')
  })
})

describe('backendRefs and timeouts', () => {
  it('splits traffic by weight; weight 0 gets none', async () => {
    const [a, b, c] = await Promise.all([mirror('a'), mirror('b'), mirror('c')])
    cleanups.push(() => a!.close(), () => b!.close(), () => c!.close())
    let seed = 1
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646
    const rt = await run(
      gateway('  - {name: http, protocol: HTTP, port: 1, allowedRoutes: {namespaces: {from: All}}}') +
        server('a-0', 'app', 'a', a!.url) +
        server('b-0', 'app', 'b', b!.url) +
        server('c-0', 'app', 'c', c!.url) +
        `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: app}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  rules:
  - backendRefs: [{name: a, port: 8000, weight: 3}, {name: b, port: 8000, weight: 1}, {name: c, port: 8000, weight: 0}]
`,
      random,
    )
    const names: string[] = []
    for (let i = 0; i < 400; i++) names.push((JSON.parse((await send(rt.listeners[0]!.url, '/x')).body) as { name: string }).name)
    const share = names.filter((n) => n === 'a').length / names.length
    expect(share).toBeGreaterThan(0.68)
    expect(share).toBeLessThan(0.82)
    expect(names).not.toContain('c')
  })

  it('answers 504 when the backend exceeds timeouts.backendRequest', async () => {
    const slow: TestUpstream = await startUpstream((_req, res) => setTimeout(() => res.end('late'), 1_000))
    cleanups.push(() => slow.close())
    const rt = await run(
      gateway('  - {name: http, protocol: HTTP, port: 1, allowedRoutes: {namespaces: {from: All}}}') +
        server('s-0', 'app', 's', slow.url) +
        `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: app}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  rules:
  - backendRefs: [{name: s, port: 8000}]
    timeouts: {request: 2s, backendRequest: 200ms}
`,
    )
    const started = Date.now()
    const res = await send(rt.listeners[0]!.url, '/x')
    expect(res.status).toBe(504)
    expect(JSON.parse(res.body).error.code).toBe('upstream_timeout')
    expect(Date.now() - started).toBeLessThan(900)
  })
})

describe('listeners', () => {
  it('share one port, told apart by hostname: exact beats wildcard beats none', async () => {
    const [a, b, c] = await Promise.all([mirror('exact'), mirror('wild'), mirror('any')])
    cleanups.push(() => a!.close(), () => b!.close(), () => c!.close())
    const port = await freePort()
    const route = (name: string, section: string, app: string) => `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: infra}
spec:
  parentRefs: [{name: gw, sectionName: ${section}}]
  rules: [{backendRefs: [{name: ${app}, port: 8000}]}]
`
    const { resources, errors } = parseStackText(
      gateway(`  - {name: exact, protocol: HTTP, port: ${port}, hostname: api.example.com}
  - {name: wild, protocol: HTTP, port: ${port}, hostname: "*.example.com"}
  - {name: any, protocol: HTTP, port: ${port}}`) +
        server('a-0', 'infra', 'a', a!.url) +
        server('b-0', 'infra', 'b', b!.url) +
        server('c-0', 'infra', 'c', c!.url) +
        route('ra', 'exact', 'a') +
        route('rb', 'wild', 'b') +
        route('rc', 'any', 'c'),
      'test.yaml',
    )
    expect(errors).toEqual([])
    const rt = await StackRuntime.start(deriveStack(resources), { bindHost: '127.0.0.1', accessLog: 'off', stateDir: await mkdtemp(join(tmpdir(), 'maitred-l-')) })
    cleanups.push(() => rt.close())
    expect(new Set(rt.listeners.map((l) => l.port))).toEqual(new Set([port]))
    const url = rt.listeners[0]!.url
    const nameFor = async (host: string) => (JSON.parse((await send(url, '/', { host })).body) as { name: string }).name
    expect(await nameFor('api.example.com')).toBe('exact')
    expect(await nameFor('web.example.com')).toBe('wild')
    expect(await nameFor('other.org')).toBe('any')
  })

  it('allowedRoutes: Same refuses other namespaces; Selector admits namespaces by label', async () => {
    const yaml = (from: string) =>
      gateway(`  - {name: http, protocol: HTTP, port: 1, allowedRoutes: {namespaces: ${from}}}`) +
      `---
apiVersion: v1
kind: Namespace
metadata: {name: team-a, labels: {gateway-access: "yes"}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: team-a}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  rules: [{backendRefs: [{name: nothing}]}]
`
    const status = async (from: string) => {
      const rt = await run(yaml(from))
      const res = await fetch(`${rt.listeners[0]!.url}/`)
      return res.status
    }
    expect(await status('{from: Same}')).toBe(404)
    expect(await status('{from: Selector, selector: {matchLabels: {gateway-access: "yes"}}}')).toBe(500)
    expect(await status('{from: Selector, selector: {matchLabels: {gateway-access: "no"}}}')).toBe(404)
  })
})
