import { createServer, request, type Server } from 'node:http'
import { connect as http2Connect, createServer as createHttp2Server, type Http2Server } from 'node:http2'
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { H2cSniffer } from './h2c-sniffer.js'

/** Every server answers with the HTTP version it saw, so a test can tell which one served a connection. */
const answerVersion = (req: { httpVersion: string }, res: { end(body: string): void }) => res.end(`served over HTTP/${req.httpVersion}`)

const servers: (Server | Http2Server | NetServer)[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) {
    ;(s as Server).closeAllConnections?.()
    await new Promise((r) => s.close(r))
  }
})

async function listen<S extends Server | Http2Server | NetServer>(server: S): Promise<number> {
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return (server.address() as AddressInfo).port
}

async function start(timeoutMs = 5_000) {
  const http1 = createServer(answerVersion)
  const http2 = createHttp2Server(answerVersion)
  servers.push(http2)
  const sniffer = new H2cSniffer(http1, http2, timeoutMs)
  const port = await listen(http1)
  return { http1, sniffer, port, url: `http://127.0.0.1:${port}` }
}

/** One GET over a new HTTP/2 session (prior knowledge, no TLS). */
function h2Get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(url)
    session.on('error', reject)
    const stream = session.request({ ':path': '/' })
    let body = ''
    stream.on('data', (d: Buffer) => (body += d.toString()))
    stream.on('end', () => session.close(() => resolve(body)))
    stream.on('error', reject)
  })
}

function h1(url: string, method = 'GET'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve(body))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Everything a raw connection receives until the server closes it. */
function rawExchange(port: number, send: (socket: Socket) => void): Promise<string> {
  return new Promise((resolve) => {
    let data = ''
    const socket = netConnect(port, '127.0.0.1', () => send(socket))
    socket.on('data', (d: Buffer) => (data += d.toString()))
    socket.on('close', () => resolve(data))
    socket.on('error', () => {})
  })
}

const connections = (server: Server) => new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))))

describe('H2cSniffer', () => {
  it('hands HTTP/2 prior-knowledge connections to the HTTP/2 server, everything else to HTTP/1.1 (P… methods too)', async () => {
    const { url } = await start()
    expect(await h2Get(url)).toBe('served over HTTP/2.0')
    for (const method of ['GET', 'POST', 'PUT', 'PATCH']) expect(await h1(url, method)).toBe('served over HTTP/1.1')
  })

  it('keeps serving HTTP/1.1 keep-alive requests on the same connection', async () => {
    const { port } = await start()
    const twice = 'GET /a HTTP/1.1\r\nhost: x\r\n\r\nGET /b HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'
    const reply = await rawExchange(port, (s) => s.write(twice))
    expect(reply.match(/served over HTTP\/1\.1/g)).toHaveLength(2)
  })

  it('waits for a preface split across packets', async () => {
    const { port } = await start()
    // A relay that sends the client's first bytes in three writes, 30 ms apart, then pipes the rest.
    const relay = createNetServer((client) => {
      const upstream = netConnect(port, '127.0.0.1')
      upstream.pipe(client)
      client.once('data', (first: Buffer) => {
        upstream.write(first.subarray(0, 1))
        setTimeout(() => upstream.write(first.subarray(1, 10)), 30)
        setTimeout(() => {
          upstream.write(first.subarray(10))
          client.pipe(upstream)
        }, 60)
      })
    })
    const relayPort = await listen(relay)
    expect(await h2Get(`http://127.0.0.1:${relayPort}`)).toBe('served over HTTP/2.0')
  })

  it('lets go of connections that close before sending a protocol, without crashing', async () => {
    const { http1, url, port } = await start()
    await rawExchange(port, (s) => s.end())
    await rawExchange(port, (s) => s.end('PRI * HTTP/2'))
    await rawExchange(port, (s) => s.resetAndDestroy())
    await rawExchange(port, (s) => s.write('PRI * ', () => s.resetAndDestroy()))
    await expect.poll(() => connections(http1)).toBe(0)
    expect(await h1(url)).toBe('served over HTTP/1.1')
  })

  it('a connection silent past the timeout is reported to HTTP/1.1 as a request timeout', async () => {
    const { http1, port } = await start(100)
    const reported: string[] = []
    http1.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      reported.push(err.code!)
      socket.end('HTTP/1.1 408 Request Timeout\r\nconnection: close\r\n\r\n')
    })
    expect(await rawExchange(port, () => {})).toMatch(/^HTTP\/1\.1 408 /)
    expect(await rawExchange(port, (s) => s.write('PRI * HTTP/2.0'))).toMatch(/^HTTP\/1\.1 408 /)
    expect(reported).toEqual(['ERR_HTTP_REQUEST_TIMEOUT', 'ERR_HTTP_REQUEST_TIMEOUT'])
  })

  it('destroyPending closes connections that have not said which protocol they speak', async () => {
    const { http1, sniffer, port } = await start()
    const closed = rawExchange(port, () => {})
    await expect.poll(() => connections(http1)).toBe(1)
    sniffer.destroyPending()
    expect(await closed).toBe('')
    await expect.poll(() => connections(http1)).toBe(0)
  })
})
