import { mkdtemp, rm } from 'node:fs/promises'
import { connect, type ClientHttp2Session, type Http2ServerResponse, type OutgoingHttpHeaders } from 'node:http2'
import { connect as netConnect } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { LocalCertificateAuthority } from '../runtime/local-certificate-authority.js'
import { PortServer, type PortServerOptions } from './port-server.js'
import type { ClientRequest, RequestHandler } from './request-handler.js'

const OPTIONS: PortServerOptions = { maxHeaderBytes: 16 * 1024, headersTimeoutMs: 5_000, requestTimeoutMs: 10_000, keepAliveTimeoutMs: 300 }

/** An HTTP/2 handler answering "a" at once and "b" after `quietMs`: silent in between, like a long completion. */
function slowHandler(quietMs: number): RequestHandler {
  const handle = (_req: ClientRequest, res: Http2ServerResponse, _host: string, onClose: () => void) => {
    res.on('close', onClose)
    res.writeHead(200)
    res.write('a')
    setTimeout(() => res.end('b'), quietMs)
  }
  return { handle } as unknown as RequestHandler
}

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

async function start(quietMs: number) {
  const server = new PortServer('HTTP', [{ handler: slowHandler(quietMs), hostname: undefined }], OPTIONS)
  const port = await server.listen(0, '127.0.0.1')
  cleanups.push(() => server.close(100))
  const session = connect(`http://127.0.0.1:${port}`)
  cleanups.push(() => session.destroy())
  return { server, port, session }
}

/** An HTTPS port with a certificate for localhost from a throwaway CA; `ca` is what clients trust. */
async function startHttps(quietMs: number, options: Partial<PortServerOptions> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'maitred-port-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const authority = await LocalCertificateAuthority.open(dir)
  const { cert, key } = await authority.issue('gw', ['localhost'])
  const server = new PortServer('HTTPS', [{ handler: slowHandler(quietMs), hostname: undefined, certificate: { cert, key } }], { ...OPTIONS, ...options })
  const port = await server.listen(0, '127.0.0.1')
  cleanups.push(() => server.close(100))
  return { server, port, ca: authority.cert }
}

function get(session: ClientHttp2Session, headers: OutgoingHttpHeaders = {}): Promise<{ status: number; body: string; rstCode: number | undefined }> {
  return new Promise((resolve) => {
    const stream = session.request({ ':path': '/', ...headers })
    let status = 0
    let body = ''
    stream.on('response', (h) => (status = Number(h[':status'])))
    stream.on('data', (d: Buffer) => (body += d.toString()))
    stream.on('error', () => {})
    stream.on('close', () => resolve({ status, body, rstCode: stream.rstCode }))
  })
}

/** An HTTP/1.1 keep-alive GET over TLS: the answer, and when the server closed the connection (ms after the answer). */
function https1Get(port: number, ca: string, extraHeaders = ''): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port, host: '127.0.0.1', servername: 'localhost', ca, ALPNProtocols: ['http/1.1'] }, () =>
      socket.write(`GET / HTTP/1.1\r\nhost: localhost\r\n${extraHeaders}\r\n`),
    )
    cleanups.push(() => socket.destroy())
    let answer = ''
    let answered = 0
    socket.on('data', (d: Buffer) => {
      answer += d.toString()
      if (answer.endsWith('\r\n0\r\n\r\n')) answered = performance.now()
    })
    socket.on('error', reject)
    socket.on('close', () => resolve({ answer, closedAfterMs: performance.now() - answered }))
  })
}

describe('PortServer: HTTP/2 sessions on an HTTP port (h2c)', () => {
  it('a session quiet past the keep-alive timeout gets GOAWAY, but its open stream finishes', async () => {
    const { session } = await start(800)
    const goaway = new Promise<number>((resolve) => session.once('goaway', () => resolve(performance.now())))
    const started = performance.now()
    expect(await get(session)).toEqual({ status: 200, body: 'ab', rstCode: 0 })
    expect((await goaway) - started).toBeLessThan(700)
    await new Promise((resolve) => session.once('close', resolve))
  })

  it('close() waits for an open stream, tells the session to go away and completes', async () => {
    const { server, session } = await start(300)
    const answer = get(session)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(server.inFlight).toBe(1)
    const goaway = new Promise((resolve) => session.once('goaway', resolve))
    await server.close(5_000)
    await goaway
    expect(await answer).toEqual({ status: 200, body: 'ab', rstCode: 0 })
  })

  it('close() at its deadline cuts the responses still in flight, HTTP/2 and HTTP/1.1 alike', async () => {
    const { server, port, session } = await start(60_000)
    const h2 = get(session)
    const h1 = new Promise<string>((resolve) => {
      const socket = netConnect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nhost: localhost\r\n\r\n'))
      let answer = ''
      socket.on('data', (d: Buffer) => (answer += d.toString()))
      socket.on('error', () => {})
      socket.on('close', () => resolve(answer))
    })
    while (server.inFlight < 2) await new Promise((resolve) => setTimeout(resolve, 10))
    const started = performance.now()
    await server.close(200)
    expect(performance.now() - started).toBeLessThan(2_000)
    expect((await h2).body).toBe('a')
    expect(await h1).toMatch(/^HTTP\/1\.1 200 [^]*\r\n1\r\na\r\n$/)
    expect(server.inFlight).toBe(0)
  })

  it('close() does not wait for a connection that has sent nothing yet', async () => {
    const { server, port } = await start(0)
    const silent = netConnect(port, '127.0.0.1')
    silent.on('error', () => {})
    cleanups.push(() => silent.destroy())
    await new Promise((resolve) => silent.once('connect', resolve))
    await new Promise((resolve) => setTimeout(resolve, 20))
    const started = performance.now()
    await server.close(5_000)
    expect(performance.now() - started).toBeLessThan(1_000)
  })
})

describe('PortServer: HTTPS', () => {
  it('close() tells an idle HTTP/2 session to go away rather than waiting for the client to leave', async () => {
    const { server, port, ca } = await startHttps(0, { keepAliveTimeoutMs: 60_000 })
    const session = connect(`https://localhost:${port}`, { ca })
    cleanups.push(() => session.destroy())
    expect(await get(session)).toMatchObject({ body: 'ab', rstCode: 0 })
    const started = performance.now()
    await server.close(30_000)
    expect(performance.now() - started).toBeLessThan(1_000)
  })

  it('an HTTP/2 header list over the limit sent before the SETTINGS ACK gets 431 JSON; the session serves on', async () => {
    const { port, ca } = await startHttps(0)
    // Sent with the preface, before the client has acknowledged the server's SETTINGS (so node:http2 does not check it).
    const session = connect(`https://localhost:${port}`, { ca, maxSendHeaderBlockLength: 2 ** 20 })
    cleanups.push(() => session.destroy())
    const early = await get(session, { 'x-big': 'a'.repeat(OPTIONS.maxHeaderBytes) })
    expect(early.status).toBe(431)
    expect(JSON.parse(early.body).error).toMatchObject({ type: 'invalid_request_error', code: 'headers_too_large' })
    expect(await get(session)).toMatchObject({ status: 200, body: 'ab' })
  })

  it('an HTTP/2 stream quiet past the keep-alive timeout completes; the idle session then gets GOAWAY', async () => {
    const { port, ca } = await startHttps(800)
    const session = connect(`https://localhost:${port}`, { ca })
    cleanups.push(() => session.destroy())
    const goaway = new Promise((resolve) => session.once('goaway', resolve))
    expect(await get(session)).toMatchObject({ status: 200, body: 'ab', rstCode: 0 })
    await goaway
  })

  it('an HTTP/1.1 request quiet past the keep-alive timeout completes; the idle connection is then closed', async () => {
    const { port, ca } = await startHttps(800)
    const { answer, closedAfterMs } = await https1Get(port, ca)
    expect(answer).toMatch(/^HTTP\/1\.1 200 /)
    expect(answer).toContain('\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\n')
    // Node closes an idle keep-alive connection a second after the advertised timeout.
    expect(closedAfterMs).toBeGreaterThan(OPTIONS.keepAliveTimeoutMs - 50)
    expect(closedAfterMs).toBeLessThan(OPTIONS.keepAliveTimeoutMs + 2_000)
  })

  it('HTTP/1.1 over TLS has the listener head limit, not the 16 KiB Node default: 431 JSON past it', async () => {
    const { port, ca } = await startHttps(0, { maxHeaderBytes: 32 * 1024 })
    const within = await https1Get(port, ca, `x-big: ${'a'.repeat(20 * 1024)}\r\n`)
    expect(within.answer).toMatch(/^HTTP\/1\.1 200 /)
    const over = await https1Get(port, ca, `x-big: ${'a'.repeat(40 * 1024)}\r\n`)
    expect(over.answer).toMatch(/^HTTP\/1\.1 431 /)
    expect(JSON.parse(over.answer.slice(over.answer.indexOf('\r\n\r\n') + 4)).error).toMatchObject({ code: 'headers_too_large' })
  })
})
