import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect as http2Connect, createServer as createHttp2Server, type ClientHttp2Session, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2'
import { connect as netConnect, type AddressInfo, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { type GatewayError, sendOpenAIError } from './openai-error.js'
import { readRequestBody } from './request-body.js'

const LIMIT = 64 * 1024

/** Reads the body as the gateway does for a pool route, answering errors as it does. */
function handle(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void {
  readRequestBody(req, LIMIT).then(
    (body) => res.end(`read ${body.length} bytes`),
    (err: GatewayError) => sendOpenAIError(res, err.status, err.message, err.code),
  )
}

const servers: Server[] = []
const cleanups: (() => void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) c()
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r))
})

async function listen(server: Server): Promise<number> {
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return (server.address() as AddressInfo).port
}

/**
 * Sends `head`, then body bytes for as long as the server takes them (at most `maxBytes`): everything the connection
 * receives until the server closes it, and how many bytes of the request the server had read by then.
 */
async function http1Upload(head: string, chunk: (n: number) => string, maxBytes: number): Promise<{ answer: string; serverRead: number }> {
  let serverRead = 0
  const server = createServer((req, res) => {
    req.socket.once('close', () => (serverRead = req.socket.bytesRead))
    handle(req, res)
  })
  const port = await listen(server)
  const answer = await new Promise<string>((resolve) => {
    let data = ''
    let sent = 0
    const socket = netConnect(port, '127.0.0.1', () => {
      socket.write(head)
      pump()
    })
    cleanups.push(() => socket.destroy())
    const pump = () => {
      while (sent < maxBytes && !socket.destroyed) {
        const piece = chunk(16 * 1024)
        sent += piece.length
        if (!socket.write(piece)) return void socket.once('drain', pump)
      }
    }
    socket.on('data', (d: Buffer) => (data += d.toString()))
    socket.on('error', () => {}) // a reset once the server has closed its side: the answer is in `data` already
    socket.on('close', () => resolve(data))
  })
  await new Promise((r) => setImmediate(r))
  return { answer, serverRead }
}

/** One POST on an h2c session writing `bodyBytes` in chunks (as far as the server takes them). */
function h2Post(session: ClientHttp2Session, bodyBytes: number): Promise<{ status: number; body: string; rstCode: number | undefined }> {
  return new Promise((resolve) => {
    const stream = session.request({ ':method': 'POST', ':path': '/' })
    let status = 0
    let body = ''
    let sent = 0
    const pump = () => {
      while (sent < bodyBytes && !stream.destroyed) {
        const piece = Math.min(16 * 1024, bodyBytes - sent)
        sent += piece
        if (sent === bodyBytes) return void stream.end('x'.repeat(piece))
        if (!stream.write('x'.repeat(piece))) return void stream.once('drain', pump)
      }
    }
    pump()
    stream.on('response', (h) => (status = Number(h[':status'])))
    stream.on('data', (d: Buffer) => (body += d.toString()))
    stream.on('error', () => {})
    // Reset by the server after its answer (RFC 9113 §8.1), a node:http2 client stream whose request body is unfinished
    // waits for that body before closing: let it go once the answer is read.
    stream.on('end', () => stream.closed && stream.destroy())
    stream.on('close', () => resolve({ status, body, rstCode: stream.rstCode }))
  })
}

const chunked = (n: number) => `${n.toString(16)}\r\n${'x'.repeat(n)}\r\n`
const jsonOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { type: string; code: string } }

describe('readRequestBody over the limit', () => {
  it('HTTP/1.1 chunked: 413 JSON with connection: close; the connection closes once the client stops, the rest unbuffered', async () => {
    const { answer, serverRead } = await http1Upload('POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n', chunked, 64 * 2 ** 20)
    expect(answer).toMatch(/^HTTP\/1\.1 413 /)
    expect(answer.toLowerCase()).toContain('\r\nconnection: close\r\n')
    expect(jsonOf(answer).error).toEqual({ message: `request body exceeds the limit of ${LIMIT} bytes`, type: 'invalid_request_error', param: null, code: 'request_too_large' })
    expect(serverRead).toBeLessThan(16 * 2 ** 20) // of the 64 MiB offered
  })

  it('HTTP/1.1 with a content-length over the limit: 413 at once, connection: close', async () => {
    const { answer } = await http1Upload(`POST / HTTP/1.1\r\nhost: x\r\ncontent-length: ${64 * 2 ** 20}\r\n\r\n`, (n) => 'x'.repeat(n), 64 * 2 ** 20)
    expect(answer).toMatch(/^HTTP\/1\.1 413 /)
    expect(answer.toLowerCase()).toContain('\r\nconnection: close\r\n')
    expect(jsonOf(answer).error.code).toBe('request_too_large')
  })

  it('HTTP/2: 413 JSON, then only the stream ends (NO_ERROR); the session serves on', async () => {
    const port = await listen(createHttp2Server(handle) as unknown as Server)
    const session = http2Connect(`http://127.0.0.1:${port}`)
    cleanups.push(() => session.destroy())
    const big = await h2Post(session, 64 * 2 ** 20)
    expect(big.status).toBe(413)
    expect(JSON.parse(big.body).error.code).toBe('request_too_large')
    expect(big.rstCode).toBe(0)
    expect(await h2Post(session, 1000)).toEqual({ status: 200, body: 'read 1000 bytes', rstCode: 0 })
  })
})
