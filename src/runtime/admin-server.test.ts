import { connect } from 'node:net'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { startAdminServer } from './admin-server.js'
import type { StackRuntime } from './stack-runtime.js'

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of closers.splice(0)) await c()
})

/** The admin API without a stack: these requests are refused before the runtime is consulted. */
async function admin() {
  const server = await startAdminServer({} as StackRuntime, 0)
  closers.push(() => server.close())
  return server.url
}

describe('admin server: POST /api/v1/apply', () => {
  it('answers a body declared over its 64 MiB limit with 413 JSON and closes the connection, reading none of it', async () => {
    const url = new URL(await admin())
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () =>
        socket.write(`POST /api/v1/apply HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: ${65 * 1024 * 1024}\r\n\r\n`),
      )
      let data = ''
      socket.on('data', (d: Buffer) => (data += d.toString()))
      socket.on('error', reject)
      // The server closes the connection after its answer: the body is never sent.
      socket.on('close', () => resolve(data))
    })
    expect(answer).toMatch(/^HTTP\/1\.1 413 /)
    expect(answer.toLowerCase()).toContain('connection: close')
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error.code).toBe('request_too_large')
  })

  it('answers a body that is not JSON with 422 and the reason', async () => {
    const url = await admin()
    const res = await request(`${url}/api/v1/apply`, { method: 'POST', body: 'not json' })
    expect(res.statusCode).toBe(422)
    expect(((await res.body.json()) as { error: { code: string } }).error.code).toBe('invalid_config')
  })
})
