import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { startUpstream } from '../../test/integration/upstreams.js'
import type { EndpointRef } from '../picker/endpoint.js'
import { LocalCertificateAuthority } from '../runtime/local-certificate-authority.js'
import type { UpstreamHandler, UpstreamRequest } from './upstream-connection.js'
import { UpstreamPool } from './upstream-pool.js'

interface Exchange {
  status: number
  headers: Record<string, unknown>
  body: string
}

/** A handler that collects the response; `pauseFirst` makes onData refuse the first chunk (until resumed). */
class Recorder implements UpstreamHandler {
  abort: ((reason: Error) => void) | undefined
  resume: (() => void) | undefined
  readonly done: Promise<Exchange>
  readonly #out: Exchange = { status: 0, headers: {}, body: '' }
  #settle!: { resolve: (e: Exchange) => void; reject: (err: Error) => void }
  chunks = 0

  constructor(
    private readonly pauseFirst = false,
    private readonly onChunk?: () => void,
  ) {
    this.done = new Promise((resolve, reject) => (this.#settle = { resolve, reject }))
  }
  onConnect(abort: (reason: Error) => void): void {
    this.abort = abort
  }
  onHeaders(status: number, headers: Record<string, unknown>, resume: () => void): void {
    Object.assign(this.#out, { status, headers })
    this.resume = resume
  }
  onData(chunk: Buffer): boolean {
    this.#out.body += chunk.toString()
    this.chunks++
    this.onChunk?.()
    return !(this.pauseFirst && this.chunks === 1)
  }
  onComplete(): void {
    this.#settle.resolve(this.#out)
  }
  onError(err: Error): void {
    this.#settle.reject(err)
  }
}

const closers: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

async function listen<S extends Server | TcpServer>(server: S): Promise<S & { port: number }> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  closers.push(async () => {
    ;(server as Server).closeAllConnections?.()
    await new Promise((resolve) => server.close(resolve))
  })
  return Object.assign(server, { port: (server.address() as AddressInfo).port })
}

const endpoint = (url: string, tls?: EndpointRef['tls']): EndpointRef => ({ id: `ns/${url}`, name: 'e', namespace: 'ns', address: new URL(url).host, url, labels: {}, ...(tls ? { tls } : {}) })

function newPool(keepAliveTimeoutMs = 4_000, connectTimeoutMs = 2_000): UpstreamPool {
  const pool = new UpstreamPool({ connectTimeoutMs, keepAliveTimeoutMs })
  closers.push(() => pool.close())
  return pool
}

function send(pool: UpstreamPool, at: EndpointRef, request: Partial<UpstreamRequest> = {}, handler = new Recorder()): Promise<Exchange> {
  pool.dispatch(at, { method: 'GET', path: '/', headers: {}, body: null, ...request }, handler)
  return handler.done
}

/** Echoes method, path, host, framing headers and the body it read; counts the connections it accepted. */
async function echoServer(): Promise<Server & { port: number; connections: number }> {
  const upstream = await startUpstream((req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const h = req.headers
    res.setHeader('set-cookie', ['a=1', 'b=2'])
    res.end(JSON.stringify({ method: req.method, url: req.url, host: h.host, cl: h['content-length'], te: h['transfer-encoding'], x: h['x-a'], body: body.toString() }))
  })
  closers.push(() => upstream.close())
  const s = Object.assign(upstream.server, { port: Number(new URL(upstream.url).port), connections: 0 })
  s.on('connection', () => s.connections++)
  return s
}

describe('UpstreamPool', () => {
  it('sends buffered, streamed and empty bodies framed right, and carries sequential requests on one keep-alive connection', async () => {
    const server = await echoServer()
    const pool = newPool()
    const at = endpoint(`http://127.0.0.1:${server.port}`)
    const buffered = JSON.parse((await send(pool, at, { method: 'POST', path: '/v1/x?y=1', headers: { 'x-a': ['1', '2'] }, body: Buffer.from('{"a":1}') })).body)
    expect(buffered).toEqual({ method: 'POST', url: '/v1/x?y=1', host: `127.0.0.1:${server.port}`, cl: '7', x: '1, 2', body: '{"a":1}' })
    const chunked = JSON.parse((await send(pool, at, { method: 'PUT', headers: { host: 'model.example' }, body: Readable.from([Buffer.from('ab'), Buffer.from('cd')]) })).body)
    expect(chunked).toMatchObject({ method: 'PUT', host: 'model.example', te: 'chunked', body: 'abcd' })
    const sized = JSON.parse((await send(pool, at, { method: 'POST', headers: { 'content-length': '4' }, body: Readable.from([Buffer.from('wxyz')]) })).body)
    expect(sized).toMatchObject({ cl: '4', body: 'wxyz' })
    // Past 16 KiB the head and the body go out as two writes.
    const large = JSON.parse((await send(pool, at, { method: 'POST', body: Buffer.alloc(100_000, 'x') })).body)
    expect(large).toMatchObject({ cl: '100000', body: 'x'.repeat(100_000) })
    const head = await send(pool, at, { method: 'HEAD' })
    expect(head).toMatchObject({ status: 200, body: '' })
    const empty = await send(pool, at, { method: 'POST' })
    expect(JSON.parse(empty.body)).toMatchObject({ cl: '0', body: '' })
    expect(empty.headers['set-cookie']).toEqual(['a=1', 'b=2'])
    expect(server.connections).toBe(1)
  })

  it('opens a new connection when the upstream closed the idle one, and closes its own idle ones after the keep-alive timeout', async () => {
    const server = await echoServer()
    const pool = newPool(100)
    const at = endpoint(`http://127.0.0.1:${server.port}`)
    await send(pool, at)
    server.closeIdleConnections()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect((await send(pool, at)).status).toBe(200)
    expect(server.connections).toBe(2)
    const served = once(server, 'request') as Promise<[IncomingMessage]>
    await send(pool, at)
    const [request] = await served
    // The sweep runs once a second and closes connections idle for over 100 ms.
    await once(request.socket, 'close')
  })

  it('does not reuse a connection whose upstream sent bytes past the end of a response', async () => {
    let connections = 0
    const server = await listen(
      createTcpServer((socket: Socket) => {
        connections++
        socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n'))
      }),
    )
    const pool = newPool()
    const at = endpoint(`http://127.0.0.1:${server.port}`)
    expect((await send(pool, at)).body).toBe('ok')
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect((await send(pool, at)).body).toBe('ok')
    expect(connections).toBe(2)
  })

  it('keeps a connection no longer than a second under the idle timeout the upstream announces', async () => {
    let connections = 0
    let announce = 1
    const server = await listen(
      createTcpServer((socket: Socket) => {
        connections++
        socket.on('data', () => socket.write(`HTTP/1.1 200 OK\r\nKeep-Alive: timeout=${announce}\r\ncontent-length: 2\r\n\r\nok`))
      }),
    )
    const pool = newPool()
    const at = endpoint(`http://127.0.0.1:${server.port}`)
    await send(pool, at)
    await send(pool, at)
    expect(connections).toBe(2) // timeout=1: nothing left to keep it for
    announce = 3
    await send(pool, at)
    await send(pool, at)
    expect(connections).toBe(3)
  })

  it('reports a refused connection with its code, before any response', async () => {
    const server = await listen(createTcpServer())
    const port = server.port
    await new Promise((resolve) => server.close(resolve))
    await expect(send(newPool(), endpoint(`http://127.0.0.1:${port}`))).rejects.toMatchObject({ code: 'ECONNREFUSED' })
  })

  it('reports an upstream that closes without answering as UPSTREAM_CLOSED (so the proxy may retry elsewhere)', async () => {
    const server = await listen(createTcpServer((socket: Socket) => socket.once('data', () => socket.end())))
    await expect(send(newPool(), endpoint(`http://127.0.0.1:${server.port}`))).rejects.toMatchObject({ code: 'UPSTREAM_CLOSED', message: /before responding/ })
  })

  it('sends a request again on a new connection when a reused one is closed under it before any answer (not a streamed body)', async () => {
    let connections = 0
    const server = await listen(
      createTcpServer((socket: Socket) => {
        connections++
        let requests = 0
        // Every connection answers once, then closes as its next request arrives: the keep-alive race.
        socket.on('data', () => (++requests === 2 ? socket.destroy() : socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')))
      }),
    )
    const pool = newPool()
    const at = endpoint(`http://127.0.0.1:${server.port}`)
    expect((await send(pool, at)).body).toBe('ok')
    expect((await send(pool, at, { method: 'POST', body: Buffer.from('{}') })).body).toBe('ok')
    expect(connections).toBe(2)
    await expect(send(pool, at, { method: 'POST', body: Readable.from([Buffer.from('{}')]) })).rejects.toMatchObject({ code: 'UPSTREAM_CLOSED' })
    expect(connections).toBe(2)
  })

  it('times out a connection whose TLS handshake never completes', async () => {
    const sockets: Socket[] = []
    const server = await listen(createTcpServer((socket: Socket) => void sockets.push(socket)))
    closers.push(async () => sockets.forEach((s) => s.destroy()))
    const started = performance.now()
    await expect(send(newPool(4_000, 150), endpoint(`https://127.0.0.1:${server.port}`))).rejects.toMatchObject({ code: 'UPSTREAM_CONNECT_TIMEOUT' })
    expect(performance.now() - started).toBeLessThan(1_000)
  })

  it('pauses the upstream while the handler is not draining, and an abort closes the connection instead of reusing it', async () => {
    let release!: () => void
    const server = Object.assign(
      await listen(
        createServer((req, res) => {
          if (req.url === '/quick') return void res.end('ok')
          res.writeHead(200, { 'content-type': 'text/event-stream' })
          res.write('data: 1\n\n')
          release = () => res.end('data: 2\n\n')
        }),
      ),
      { connections: 0 },
    )
    server.on('connection', () => server.connections++)
    const pool = newPool()
    const at = endpoint(`http://127.0.0.1:${server.port}`)
    const paused = new Recorder(true)
    const first = send(pool, at, {}, paused)
    while (paused.chunks === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    release()
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(paused.chunks).toBe(1) // the end of the response waits for resume()
    paused.resume!()
    expect((await first).body).toBe('data: 1\n\ndata: 2\n\n')

    const aborted = new Recorder(false, () => aborted.abort!(new Error('client went away')))
    const second = send(pool, at, {}, aborted)
    await expect(second).rejects.toThrow('client went away')
    release()
    expect((await send(pool, at, { path: '/quick' })).body).toBe('ok')
    expect(server.connections).toBe(2)
  })

  it('verifies an HTTPS upstream against the endpoint CA and server name, and refuses it without them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'maitred-upstream-pool-'))
    closers.push(() => rm(dir, { recursive: true, force: true }))
    const ca = await LocalCertificateAuthority.open(join(dir, 'pki'))
    const cert = await ca.issue('vllm', ['vllm.internal'])
    const server = await listen(createHttpsServer({ cert: await readFile(cert.certFile), key: await readFile(cert.keyFile) }, (_req, res) => res.end('secure')))
    const url = `https://127.0.0.1:${server.port}`
    const pool = newPool()
    const ok = await send(pool, endpoint(url, { ca: ca.cert, serverName: 'vllm.internal' }))
    expect(ok.body).toBe('secure')
    await expect(send(pool, endpoint(url, { serverName: 'vllm.internal' }))).rejects.toThrow(/certificate/)
    expect((await send(pool, endpoint(url, { insecureSkipVerify: true }))).body).toBe('secure')
  })

  it('close() waits for an exchange in flight, then closes its connection', async () => {
    let finish!: () => void
    const server = await listen(createServer((_req, res) => (finish = () => res.end('late'))))
    const pool = new UpstreamPool({ connectTimeoutMs: 2_000, keepAliveTimeoutMs: 4_000 })
    const exchange = send(pool, endpoint(`http://127.0.0.1:${server.port}`))
    while (!finish) await new Promise((resolve) => setTimeout(resolve, 5))
    let closed = false
    const closing = pool.close().then(() => (closed = true))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(closed).toBe(false)
    finish()
    expect((await exchange).body).toBe('late')
    await closing
  })
})
