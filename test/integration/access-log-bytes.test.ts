import { mkdtemp, readFile } from 'node:fs/promises'
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, fetch as undiciFetch } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseStackText } from '../../src/config/load-stack.js'
import { deriveStack } from '../../src/controller/derive-stack.js'
import { StackRuntime } from '../../src/runtime/stack-runtime.js'
import { stackYaml, startUpstream, type TestUpstream } from './upstreams.js'

// bytes_sent is the response body written to the client (Envoy's BYTES_SENT), whatever the protocol: it once read the
// connection's byte counter, which HTTP/2 shares between streams and which is gone by the time a stream closes.

const SSE_EVENTS = ['data: {"choices":[{"text":"one"}]}\n\n', 'data: {"choices":[{"text":"two"}]}\n\n', 'data: [DONE]\n\n']
const JSON_BODY = JSON.stringify({ choices: [{ text: 'a completion long enough to matter' }] })

let upstream: TestUpstream
let runtime: StackRuntime
let logFile: string
let http: string
let https: string
let ca: string
let agent: Agent
const sessions: ClientHttp2Session[] = []

beforeAll(async () => {
  upstream = await startUpstream((_req, res, body) => {
    if (!JSON.parse(body.toString()).stream) {
      res.setHeader('content-type', 'application/json')
      return void res.end(JSON_BODY)
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    let i = 0
    const next = () => (i < SSE_EVENTS.length - 1 ? (res.write(SSE_EVENTS[i++]), setTimeout(next, 5)) : res.end(SSE_EVENTS[i]))
    next()
  })
  const dir = await mkdtemp(join(tmpdir(), 'maitred-bytes-'))
  logFile = join(dir, 'access.log')
  const { resources, errors } = parseStackText(stackYaml([upstream.url]), 'test.yaml')
  expect(errors).toEqual([])
  runtime = await StackRuntime.start(deriveStack(resources), { bindHost: '127.0.0.1', listenerPort: () => 0, accessLog: logFile, stateDir: dir, scrapeIntervalMs: 20 })
  http = runtime.listeners.find((l) => l.listener.protocol === 'HTTP')!.url
  https = runtime.listeners.find((l) => l.listener.protocol === 'HTTPS')!.url
  ca = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8')
  agent = new Agent({ connect: { ca }, allowH2: false })
  // The picker answers 503 until it has scraped the endpoint once.
  for (let deadline = Date.now() + 5_000; (await send('HTTP/1.1', 'warm', completions(false))).status === 503; )
    if (Date.now() > deadline) throw new Error('the pool never became ready')
})

afterAll(async () => {
  for (const s of sessions) s.close()
  await agent?.close()
  await runtime?.close()
  await upstream?.close()
})

type Client = 'HTTP/1.1' | 'HTTPS/1.1' | 'h2c' | 'HTTPS/2'
interface Sent {
  path: string
  body?: string
}
const completions = (stream: boolean): Sent => ({ path: '/team/m/v1/completions', body: JSON.stringify({ model: 'm', prompt: 'x', stream }) })
const NO_ROUTE: Sent = { path: '/nowhere' }

/** Sends one request; answers its status and the body bytes the client received. */
async function send(client: Client, requestId: string, sent: Sent): Promise<{ status: number; bytes: number }> {
  const method = sent.body === undefined ? 'GET' : 'POST'
  const headers = { 'x-request-id': requestId, 'content-type': 'application/json' }
  if (client === 'HTTP/1.1' || client === 'HTTPS/1.1') {
    const base = client === 'HTTP/1.1' ? http : https
    const res = await undiciFetch(base + sent.path, { method, headers, body: sent.body, dispatcher: client === 'HTTPS/1.1' ? agent : undefined })
    return { status: res.status, bytes: (await res.arrayBuffer()).byteLength }
  }
  const session = client === 'h2c' ? (sessions[0] ??= http2Connect(http)) : (sessions[1] ??= http2Connect(https, { ca }))
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': sent.path, ':method': method, ...headers })
    let status = 0
    let bytes = 0
    stream.on('response', (h) => (status = Number(h[':status'])))
    stream.on('data', (d: Buffer) => (bytes += d.length))
    stream.on('end', () => resolve({ status, bytes }))
    stream.on('error', reject)
    stream.end(sent.body)
  })
}

async function loggedBytes(requestId: string): Promise<{ bytes_sent: number; protocol: string }> {
  for (let deadline = Date.now() + 2_000; ; await new Promise((r) => setTimeout(r, 20))) {
    const text = await readFile(logFile, 'utf8').catch(() => '')
    const line = text.split('\n').find((l) => l.includes(`"request_id":"${requestId}"`))
    if (line) return JSON.parse(line)
    if (Date.now() > deadline) throw new Error(`no access-log line for ${requestId}`)
  }
}

describe('access log bytes_sent', () => {
  it.each<Client>(['HTTP/1.1', 'HTTPS/1.1', 'h2c', 'HTTPS/2'])('is the body the client received over %s, streamed or not, and for errors', async (client) => {
    const cases = { plain: completions(false), streamed: completions(true), error: NO_ROUTE }
    // At once: HTTP/2 puts the three on one connection, whose byte counter they share.
    const ids = Object.keys(cases).map((name) => `${client}-${name}-${Math.random()}`)
    const answers = await Promise.all(Object.values(cases).map((sent, i) => send(client, ids[i]!, sent)))
    expect(answers.map((a) => a.status)).toEqual([200, 200, 404])
    expect(answers[0]!.bytes).toBe(JSON_BODY.length)
    expect(answers[1]!.bytes).toBe(SSE_EVENTS.join('').length)
    const logged = await Promise.all(ids.map(loggedBytes))
    expect(logged.map((l) => l.bytes_sent)).toEqual(answers.map((a) => a.bytes))
    expect(logged[0]!.protocol).toBe(client.endsWith('/2') || client === 'h2c' ? 'HTTP/2.0' : 'HTTP/1.1')
  })
})
