import { mkdtemp, rm } from 'node:fs/promises'
import { connect, type ClientHttp2Session, type Http2ServerResponse } from 'node:http2'
import { connect as netConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { LocalCertificateAuthority } from '../runtime/local-certificate-authority.js'
import type { ClientResponse } from './client-sink.js'
import { PortServer, type PortServerOptions } from './port-server.js'
import type { ClientRequest, RequestHandler } from './request-handler.js'

const OPTIONS: PortServerOptions = { maxHeaderBytes: 16 * 1024, headersTimeoutMs: 5_000, requestTimeoutMs: 10_000, keepAliveTimeoutMs: 300 }

/** An HTTP/2 handler answering "a" at once and "b" after `quietMs`: silent in between, like a long completion. */
function slowHandler(quietMs: number): RequestHandler {
  const handle = (_req: ClientRequest, res: Http2ServerResponse, _host: string, onClose: (res: ClientResponse) => void) => {
    res.on('close', () => onClose(res))
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

function get(session: ClientHttp2Session): Promise<{ body: string; rstCode: number | undefined }> {
  return new Promise((resolve) => {
    const stream = session.request({ ':path': '/' })
    let body = ''
    stream.on('data', (d: Buffer) => (body += d.toString()))
    stream.on('error', () => {})
    stream.on('close', () => resolve({ body, rstCode: stream.rstCode }))
  })
}

describe('PortServer: HTTP/2 sessions on an HTTP port (h2c)', () => {
  it('a session quiet past the keep-alive timeout gets GOAWAY, but its open stream finishes', async () => {
    const { session } = await start(800)
    const goaway = new Promise<number>((resolve) => session.once('goaway', () => resolve(performance.now())))
    const started = performance.now()
    expect(await get(session)).toEqual({ body: 'ab', rstCode: 0 })
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
    expect(await answer).toEqual({ body: 'ab', rstCode: 0 })
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

describe('PortServer: HTTP/2 sessions on an HTTPS port', () => {
  it('close() tells an idle session to go away rather than waiting for the client to leave', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'maitred-port-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const ca = await LocalCertificateAuthority.open(dir)
    const { cert, key } = await ca.issue('gw', ['localhost'])
    const server = new PortServer('HTTPS', [{ handler: slowHandler(0), hostname: undefined, certificate: { cert, key } }], { ...OPTIONS, keepAliveTimeoutMs: 60_000 })
    const port = await server.listen(0, '127.0.0.1')
    cleanups.push(() => server.close(100))
    const session = connect(`https://localhost:${port}`, { ca: ca.cert })
    cleanups.push(() => session.destroy())
    expect(await get(session)).toEqual({ body: 'ab', rstCode: 0 })
    const started = performance.now()
    await server.close(30_000)
    expect(performance.now() - started).toBeLessThan(1_000)
  })
})
