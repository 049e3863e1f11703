import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEchoModelServer } from './echo-model-server.js'
import { ADMIN_TOKEN, createKey, maasTestStack } from './maas-stack.js'
import { startStack, type StackProcess } from './stack-process.js'
import { freePort } from '../free-port.js'

const redisServer = await new Promise<boolean>((resolve) => {
  const probe = spawn('redis-server', ['--version'])
  probe.on('error', () => resolve(false))
  probe.on('exit', (code) => resolve(code === 0))
})
if (!redisServer) console.warn('maas-redis-outage.test: skipped — no redis-server binary (.ci/run installs it)')


/** A Redis of this test's own (never the machine's shared one), on a free port, without persistence. */
async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'ignore'] })
  await new Promise<void>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('Ready to accept connections')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)))
  })
  return child
}

describe.runIf(redisServer)('Redis going away under load (fail-closed)', () => {
  let stack: StackProcess
  let redis: ChildProcess
  let port: number
  let dir: string
  let echo: Awaited<ReturnType<typeof startEchoModelServer>>

  beforeAll(async () => {
    echo = await startEchoModelServer()
    dir = await mkdtemp(join(tmpdir(), 'maitred-redis-'))
    port = await freePort()
    redis = await startRedis(port, dir)
    await writeFile(join(dir, 'stack.yaml'), maasTestStack(echo.url))
    process.env.MAITRED_ADMIN_TOKEN = ADMIN_TOKEN
    stack = await startStack(['-f', join(dir, 'stack.yaml'), '--ratelimit-store', `redis://127.0.0.1:${port}`, '--ratelimit-failure-mode', 'fail-closed'])
  }, 120_000)

  afterAll(async () => {
    await stack?.stop()
    redis?.kill('SIGKILL')
    await new Promise((r) => echo?.server.close(r))
  })

  it('answers 503 while Redis is down, never crashes, and counts again once it is back', async () => {
    const { key } = await createKey(stack.state.keysAdmin!.url, 'burst')
    const url = `${stack.gatewayUrl('maas-gateway')}/echo`
    const once = () => fetch(url, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: '{}' }).then(async (r) => ({ status: r.status, body: await r.text() }))
    expect((await once()).status).toBe(200)

    // Load in flight while Redis is killed.
    const load = Promise.all(Array.from({ length: 20 }, () => once()))
    redis.kill('SIGKILL')
    const during = await load
    expect(during.every((r) => r.status === 200 || r.status === 503)).toBe(true)
    const down = await once()
    expect(down.status).toBe(503)
    expect(JSON.parse(down.body)).toMatchObject({ error: { type: 'server_error', code: 'rate_limit_store_unavailable' } })
    expect(stack.child.exitCode).toBeNull()

    redis = await startRedis(port, dir)
    const t0 = Date.now()
    let status = 503
    while (status !== 200 && Date.now() - t0 < 10_000) {
      status = (await once()).status
      if (status !== 200) await new Promise((r) => setTimeout(r, 100))
    }
    expect(status).toBe(200)
    expect(stack.child.exitCode).toBeNull()
  })
})
