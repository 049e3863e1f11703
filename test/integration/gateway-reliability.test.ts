import { readFile, mkdtemp } from 'node:fs/promises'
import { get as httpGet } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { connect as http2Connect } from 'node:http2'
import { connect as netConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, fetch as undiciFetch } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { parseStackText } from '../../src/config/load-stack.js'
import { deriveStack } from '../../src/controller/derive-stack.js'
import { PickerError } from '../../src/picker/endpoint-picker.js'
import { LocalCertificateAuthority } from '../../src/runtime/local-certificate-authority.js'
import { StackRuntime, type StackRuntimeOptions } from '../../src/runtime/stack-runtime.js'
import { okJson, stackYaml, startUpstream, type TestUpstream } from './upstreams.js'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()))
})

function stackOf(text: string) {
  const { resources, errors } = parseStackText(text, 'test.yaml')
  expect(errors).toEqual([])
  return deriveStack(resources)
}

async function runStack(upstreams: TestUpstream[], options: Partial<StackRuntimeOptions> = {}, failureMode?: 'FailOpen' | 'FailClose') {
  const stateDir = await mkdtemp(join(tmpdir(), 'maitred-it-'))
  const stack = stackOf(stackYaml(upstreams.map((u) => u.url)))
  if (failureMode) stack.pools[0]!.spec.endpointPickerRef!.failureMode = failureMode
  const rt = await StackRuntime.start(stack, {
    bindHost: '127.0.0.1',
    listenerPort: () => 0,
    accessLog: 'off',
    stateDir,
    scrapeIntervalMs: 20,
    drainMs: 2_000,
    ...options,
  })
  cleanups.push(() => rt.close(), ...upstreams.map((u) => () => u.close()))
  const http = rt.listeners.find((l) => l.listener.protocol === 'HTTP')!.url
  const https = rt.listeners.find((l) => l.listener.protocol === 'HTTPS')!.url
  await waitFor(async () => (await fetch(`${http}/team/m/v1/completions`, post({ model: 'm', prompt: 'warm' }))).status !== 503)
  return { rt, http, https, stateDir }
}

const post = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
})

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('TLS everywhere', () => {
  it('serves HTTPS with a certificate from maitred\'s local CA, over HTTP/1.1 and HTTP/2 on the same port', async () => {
    const { https, stateDir } = await runStack([await startUpstream(okJson('a'))])
    const ca = await readFile(join(stateDir, 'pki', 'ca.crt'), 'utf8')
    const agent = new Agent({ connect: { ca } })
    cleanups.push(() => agent.close())
    const res = await undiciFetch(`${https}/team/m/v1/models`, { dispatcher: agent })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ served_by: 'a' })

    const session = http2Connect(https, { ca })
    cleanups.push(() => new Promise((r) => session.close(() => r(undefined))))
    const { status, body, alpn } = await new Promise<{ status: number; body: string; alpn: string | false }>((resolve, reject) => {
      const stream = session.request({ ':path': '/team/m/v1/models', ':method': 'GET' })
      let status = 0
      let body = ''
      stream.on('response', (h) => (status = Number(h[':status'])))
      stream.on('data', (d: Buffer) => (body += d.toString()))
      stream.on('end', () => resolve({ status, body, alpn: session.alpnProtocol ?? false }))
      stream.on('error', reject)
    })
    expect(alpn).toBe('h2')
    expect(status).toBe(200)
    expect(JSON.parse(body)).toEqual({ served_by: 'a' })
  })

  it('HTTP/2 requests with a body reach the picker route intact', async () => {
    let received = ''
    const { https, stateDir } = await runStack([await startUpstream((_req, res, body) => ((received = body.toString()), okJson('a')(_req, res)))])
    const session = http2Connect(https, { ca: await readFile(join(stateDir, 'pki', 'ca.crt'), 'utf8') })
    cleanups.push(() => new Promise((r) => session.close(() => r(undefined))))
    const payload = JSON.stringify({ model: 'm', prompt: 'over h2' })
    const status = await new Promise<number>((resolve, reject) => {
      const stream = session.request({ ':path': '/team/m/v1/completions', ':method': 'POST', 'content-type': 'application/json' })
      let status = 0
      stream.on('response', (h) => (status = Number(h[':status'])))
      stream.on('data', () => {})
      stream.on('end', () => resolve(status))
      stream.on('error', reject)
      stream.end(payload)
    })
    expect(status).toBe(200)
    expect(received).toBe(payload)
  })
})

describe('upstream TLS (DestinationRule-like)', () => {
  async function httpsUpstream(dir: string) {
    const ca = await LocalCertificateAuthority.open(join(dir, 'upstream-pki'))
    const issued = await ca.issue('vllm', ['vllm.my-first-model.svc', '127.0.0.1'])
    const server = createHttpsServer({ cert: issued.cert, key: issued.key }, (req, res) => res.end(JSON.stringify({ path: req.url, tls: true })))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    cleanups.push(() => new Promise((r) => server.close(r)))
    return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caFile: ca.certFile }
  }

  it.each([
    ['the CA that signed it', (caFile: string) => `  tls: {caFile: "${caFile}"}`, 200],
    ['the CA and an SNI name', (caFile: string) => `  tls: {caFile: "${caFile}", serverName: vllm.my-first-model.svc}`, 200],
    ['verification off', () => '  tls: {insecureSkipVerify: true}', 200],
    ['nothing (system trust only)', () => '', 503],
  ])('reaches an HTTPS model server trusting %s', async (_, tls, expected) => {
    const dir = await mkdtemp(join(tmpdir(), 'maitred-up-tls-'))
    const upstream = await httpsUpstream(dir)
    const rt = await StackRuntime.start(stackOf(stackYaml([upstream.url], '', tls(upstream.caFile))), {
      bindHost: '127.0.0.1',
      listenerPort: () => 0,
      accessLog: 'off',
      stateDir: dir,
    })
    cleanups.push(() => rt.close())
    const res = await fetch(`${rt.listeners[0]!.url}/team/m/v1/models`)
    expect(res.status).toBe(expected)
    if (expected === 200) expect(await res.json()).toEqual({ path: '/v1/models', tls: true })
  })
})

describe('nothing lost', () => {
  it('retries a refused connection on another endpoint, before any byte reached the client', async () => {
    const dead = await startUpstream(okJson('dead'))
    const alive = await startUpstream(okJson('alive'))
    const { http } = await runStack([dead, alive])
    await dead.close() // the picker still lists it until its scrape fails: connect is refused
    const results = await Promise.all(Array.from({ length: 10 }, () => fetch(`${http}/team/m/v1/completions`, post({ model: 'm', prompt: 'x' }))))
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200))
  })

  it('retries a 503 answered before the first byte', async () => {
    const busy = await startUpstream((_req, res) => ((res.statusCode = 503), res.end('{}')))
    const fine = await startUpstream(okJson('fine'))
    const { http } = await runStack([busy, fine])
    const bodies = await Promise.all(
      Array.from({ length: 8 }, async () => (await (await fetch(`${http}/team/m/v1/completions`, post({ model: 'm', prompt: 'x' }))).json()) as unknown),
    )
    expect(bodies).toEqual(Array(8).fill({ served_by: 'fine' }))
  })

  it('ends a stream cut mid-way with a well-formed SSE error event, never retried after the first byte', async () => {
    const cutter = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('data: {"choices":[{"text":"a"}]}\n\n')
      setTimeout(() => req.socket.destroy(), 30)
    })
    const { http } = await runStack([cutter])
    const res = await fetch(`${http}/team/m/v1/completions`, post({ model: 'm', prompt: 'x', stream: true }))
    const text = await res.text()
    expect(text.startsWith('data: {"choices":[{"text":"a"}]}\n\n')).toBe(true)
    expect(text).toMatch(/data: \{"error":\{"message":"upstream stream interrupted[^\n]*\}\}\n\ndata: \[DONE\]\n\n$/)
    expect(cutter.hits).toBe(2) // the warm-up request and this one: no retry after the first byte
  })

  it('a client that disconnects cancels the upstream request at once', async () => {
    let upstreamClosedAt = 0
    const slow = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('data: {}\n\n')
      res.on('close', () => (upstreamClosedAt = Date.now()))
    })
    const { http } = await runStack([slow])
    const controller = new AbortController()
    const res = await fetch(`${http}/team/m/v1/completions`, { ...post({ model: 'm', prompt: 'x', stream: true }), signal: controller.signal })
    await res.body!.getReader().read()
    const abortedAt = Date.now()
    controller.abort()
    await waitFor(() => upstreamClosedAt > 0, 2_000)
    expect(upstreamClosedAt - abortedAt).toBeLessThan(500)
  })

  it('a valid apply under load loses nothing (invalid applies: test/e2e/lifecycle.test.ts)', async () => {
    const a = await startUpstream(okJson('a'))
    const b = await startUpstream(okJson('b'))
    const { rt, http } = await runStack([a])
    let stop = false
    const statuses: number[] = []
    const load = (async () => {
      while (!stop) {
        const batch = await Promise.all(Array.from({ length: 8 }, () => fetch(`${http}/team/m/v1/completions`, post({ model: 'm', prompt: 'x' }))))
        statuses.push(...batch.map((r) => r.status))
      }
    })()
    for (let i = 0; i < 4; i++) {
      await rt.apply(stackOf(stackYaml(i % 2 === 0 ? [a.url, b.url] : [b.url])))
      await new Promise((r) => setTimeout(r, 100))
    }
    stop = true
    await load
    expect(statuses.length).toBeGreaterThan(20)
    expect(statuses.filter((s) => s !== 200)).toEqual([])
    expect(b.hits).toBeGreaterThan(0)
  })
})

describe('picker failure: the pool\'s failureMode', () => {
  const breakPicker = (rt: StackRuntime, how: 'throw' | 'hang' | 'refuse') => {
    const picker = [...rt.pickers.values()][0]!.picker
    picker.pick = () =>
      how === 'throw' ? Promise.reject(new Error('picker crashed')) : how === 'hang' ? new Promise(() => {}) : Promise.reject(new PickerError(429, 'saturated', 'saturated'))
  }

  it.each(['throw', 'hang'] as const)('FailOpen forwards to a pool endpoint when the picker fails (%s)', async (how) => {
    const { rt, http } = await runStack([await startUpstream(okJson('a'))], { pickerTimeoutMs: 200 }, 'FailOpen')
    breakPicker(rt, how)
    const res = await fetch(`${http}/team/m/v1/completions`, post({ model: 'm', prompt: 'x' }))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ served_by: 'a' })
  })

  it('FailClose answers 503 when the picker fails', async () => {
    const { rt, http } = await runStack([await startUpstream(okJson('a'))], { pickerTimeoutMs: 200 }, 'FailClose')
    breakPicker(rt, 'hang')
    const res = await fetch(`${http}/team/m/v1/completions`, post({ model: 'm', prompt: 'x' }))
    expect(res.status).toBe(503)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('picker_unavailable')
  })

  it('a deliberate refusal of the picker (429) is passed on, whatever the failureMode', async () => {
    const { rt, http } = await runStack([await startUpstream(okJson('a'))], {}, 'FailOpen')
    breakPicker(rt, 'refuse')
    const res = await fetch(`${http}/team/m/v1/completions`, post({ model: 'm', prompt: 'x' }))
    expect(res.status).toBe(429)
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('rate_limit_error')
  })
})

describe('limits answer with OpenAI-shaped errors', () => {
  it('413 for a body over the limit, 431 for oversized headers, 408 for a client too slow to send its head', async () => {
    const { http } = await runStack([await startUpstream(okJson('a'))], { maxBodyBytes: 1024, maxHeaderBytes: 4096, headersTimeoutMs: 300, requestTimeoutMs: 300 })
    const big = await fetch(`${http}/team/m/v1/completions`, post({ model: 'm', prompt: 'x'.repeat(2048) }))
    expect(big.status).toBe(413)
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('request_too_large')

    const raw = (request: string, waitMs = 0) =>
      new Promise<string>((resolve) => {
        const url = new URL(http)
        const socket = netConnect(Number(url.port), url.hostname, () => {
          socket.write(request)
          if (waitMs) setTimeout(() => {}, waitMs)
        })
        let data = ''
        socket.on('data', (d) => (data += d.toString()))
        socket.on('close', () => resolve(data))
        socket.on('error', () => resolve(data))
      })
    const headers = await raw(`GET /team/m/v1/models HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(8192)}\r\n\r\n`)
    expect(headers).toMatch(/^HTTP\/1\.1 431 /)
    expect(JSON.parse(headers.split('\r\n\r\n')[1]!).error.code).toBe('headers_too_large')

    const slow = await raw('GET /team/m/v1/models HTTP/1.1\r\nhost: x\r\n')
    expect(slow).toMatch(/^HTTP\/1\.1 408 /)
    expect(JSON.parse(slow.split('\r\n\r\n')[1]!).error.type).toBe('invalid_request_error')
  })

  it('normalises the path once, before matching', async () => {
    const { http } = await runStack([await startUpstream((req, res) => res.end(JSON.stringify({ path: req.url })))])
    // node:http sends the path as written (fetch would resolve `..` and `.` on the client side).
    const path = (p: string) =>
      new Promise<string | number>((resolve, reject) => {
        httpGet(`${http}${p}`, (res) => {
          let body = ''
          res.on('data', (d: Buffer) => (body += d.toString()))
          res.on('end', () => resolve(res.statusCode === 200 ? (JSON.parse(body) as { path: string }).path : res.statusCode!))
        }).on('error', reject)
      })
    expect(await path('/team//m/./v1/models')).toBe('/v1/models')
    expect(await path('/team/x/../m/v1/models')).toBe('/v1/models')
    expect(await path('/team/m/v1/../../../other')).toBe(404)
    expect(await path('/team%2Fm/v1/models')).toBe(404)
    expect(await path('/team/m/v1/models/')).toBe('/v1/models/')
  })
})
