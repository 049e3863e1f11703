import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { connect as netConnect, type AddressInfo } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { afterEach, describe, expect, it } from 'vitest'
import { generateSelfSignedCertificate, type CertificatePair } from '../picker/extproc/self-signed-certificate.js'
import { lingerOnClose, type LingerLimits } from './lingering-close.js'

const ANSWER = '{"error":"too large"}'
const servers: Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r))
})

/**
 * A server that answers an upload with a 413 and `connection: close` at once, reading nothing, lingering with `limits`
 * (plain Node without): its port, and when its side of the connection closed.
 */
async function refusingServer(limits?: LingerLimits, tls?: CertificatePair): Promise<{ port: number; closedAt: Promise<number>; tls?: boolean }> {
  let closed!: (at: number) => void
  const closedAt = new Promise<number>((r) => (closed = r))
  const refuse = (req: IncomingMessage, res: ServerResponse) => {
    req.socket.once('close', () => closed(performance.now()))
    if (limits) lingerOnClose(req, limits)
    res.writeHead(413, { connection: 'close', 'content-length': ANSWER.length }).end(ANSWER)
  }
  const server = tls ? createHttpsServer(tls, refuse) : createServer(refuse)
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { port: (server.address() as AddressInfo).port, closedAt, tls: tls !== undefined }
}

/**
 * Uploads a chunked body for `uploadMs` (as fast as the server reads it), then goes quiet or, with `end`, ends its side.
 * Half-open, as curl goes on sending after the server's FIN. Returns once the server has closed its side: what the client
 * received, whether it was reset, and how long after the start the server closed.
 */
async function upload(server: { port: number; closedAt: Promise<number>; tls?: boolean }, uploadMs: number, end = false) {
  const start = performance.now()
  const piece = `4000\r\n${'x'.repeat(0x4000)}\r\n`
  let answer = ''
  let reset = false
  const begin = () => {
    socket.write('POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n')
    pump()
  }
  const options = { port: server.port, host: '127.0.0.1', allowHalfOpen: true }
  const socket = server.tls ? tlsConnect({ ...options, rejectUnauthorized: false }, begin) : netConnect(options, begin)
  const pump = () => {
    while (!socket.destroyed && performance.now() - start < uploadMs) if (!socket.write(piece)) return void socket.once('drain', pump)
    if (performance.now() - start < uploadMs) return void setTimeout(pump, 1)
    if (end) socket.end('0\r\n\r\n')
  }
  socket.on('data', (d: Buffer) => (answer += d.toString()))
  socket.on('error', (err: NodeJS.ErrnoException) => (reset ||= err.code === 'ECONNRESET' || err.code === 'EPIPE'))
  const closedAfter = (await server.closedAt) - start
  await new Promise((r) => setTimeout(r, 50))
  socket.destroy()
  return { answer, reset, closedAfter }
}

describe('lingerOnClose', () => {
  it('reads and drops what a client goes on uploading, so it gets the whole answer; cuts it off at maxMs', async () => {
    const { answer, reset, closedAfter } = await upload(await refusingServer({ maxMs: 600, idleMs: 200 }), 60_000)
    expect(answer).toMatch(/^HTTP\/1\.1 413 /)
    expect(answer.endsWith(`\r\n\r\n${ANSWER}`)).toBe(true)
    expect(closedAfter).toBeGreaterThanOrEqual(590)
    expect(closedAfter).toBeLessThan(3_000)
    expect(reset).toBe(true) // the client never stopped sending
  })

  it('does the same over TLS', async () => {
    const { answer, reset, closedAfter } = await upload(await refusingServer({ maxMs: 600, idleMs: 200 }, await generateSelfSignedCertificate()), 60_000)
    expect(answer.endsWith(`\r\n\r\n${ANSWER}`)).toBe(true)
    expect(closedAfter).toBeGreaterThanOrEqual(590)
    expect(reset).toBe(true)
  })

  it('closes once the client has sent nothing for idleMs', async () => {
    const { answer, reset, closedAfter } = await upload(await refusingServer({ maxMs: 10_000, idleMs: 200 }), 300)
    expect(answer.endsWith(ANSWER)).toBe(true)
    expect(reset).toBe(false)
    expect(closedAfter).toBeGreaterThanOrEqual(490)
    expect(closedAfter).toBeLessThan(3_000)
  })

  it('closes at once when the client ends its side', async () => {
    const { answer, reset, closedAfter } = await upload(await refusingServer({ maxMs: 10_000, idleMs: 5_000 }), 100, true)
    expect(answer.endsWith(ANSWER)).toBe(true)
    expect(reset).toBe(false)
    expect(closedAfter).toBeLessThan(3_000)
  })

  it('without it, the connection closes right after the answer and a client still uploading is reset', async () => {
    const { reset, closedAfter } = await upload(await refusingServer(), 60_000)
    expect(reset).toBe(true)
    expect(closedAfter).toBeLessThan(1_000)
  })
})
