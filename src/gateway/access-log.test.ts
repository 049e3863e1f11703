import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createAccessLog, type AccessLogRecord } from './access-log.js'

const record = (i: number, extra: Partial<AccessLogRecord> = {}): AccessLogRecord => ({
  start_time: '2026-12-01T00:00:00.000Z',
  request_id: `req-${i}`,
  gateway: 'gw',
  listener: 'http',
  method: 'POST',
  path: '/ns/m/v1/chat/completions?x="y"',
  protocol: 'HTTP/1.1',
  authority: 'localhost',
  response_code: 200,
  response_flags: '-',
  route_name: 'ns/route/rule',
  backend: 'InferencePool/pool',
  upstream_cluster: 'outbound|8000||pool.ns.svc.cluster.local',
  upstream_host: '127.0.0.1:8000',
  attempts: 1,
  bytes_received: 10,
  bytes_sent: 20,
  duration_ms: 3,
  upstream_service_time_ms: undefined,
  x_forwarded_for: undefined,
  user_agent: 'curl/8 "quoted" \u00e9\n',
  ...extra,
})

const lines = async (file: string) => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean)
const waitFor = async (f: () => Promise<boolean>) => {
  for (let i = 0; i < 100 && !(await f()); i++) await new Promise((r) => setTimeout(r, 10))
}

describe('access log', () => {
  let dir = ''
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('writes pino-shaped JSON lines equal to the record, undefined fields left out', async () => {
    dir = await mkdtemp(join(tmpdir(), 'maitred-log-'))
    const file = join(dir, 'access.log')
    const log = createAccessLog(file)
    const explained = record(1, { picker_profiles: ['prefill', 'decode'], explain: [{ profile: 'decode', total: 7, scores: [] }] })
    log(record(0))
    log(explained)
    await waitFor(async () => (await lines(file)).length === 2)
    const [first, second] = (await lines(file)).map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(first).toEqual({ level: 30, ...JSON.parse(JSON.stringify(record(0))) })
    expect(Object.keys(first!)[0]).toBe('level')
    expect(first).not.toHaveProperty('x_forwarded_for')
    expect(second).toEqual({ level: 30, ...JSON.parse(JSON.stringify(explained)) })
  })

  it('buffers lines, then writes them within the flush interval', async () => {
    dir = await mkdtemp(join(tmpdir(), 'maitred-log-'))
    const file = join(dir, 'access.log')
    const log = createAccessLog(file)
    log(record(0))
    expect(await lines(file)).toHaveLength(0)
    await waitFor(async () => (await lines(file)).length === 1)
    expect(await lines(file)).toHaveLength(1)
  })

  it('writes at once when 64 KiB of lines fill the buffer, without waiting for the flush timer', async () => {
    dir = await mkdtemp(join(tmpdir(), 'maitred-log-'))
    const file = join(dir, 'access.log')
    // The flush timer never fires while setTimeout is faked: only a full buffer can cause the write.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const log = createAccessLog(file)
      log(record(0))
      for (let i = 1; i <= 200; i++) log(record(i, { path: `/${'x'.repeat(400)}` }))
      // Polled with file reads only (real I/O), since timers are frozen.
      for (let i = 0; i < 500 && (await lines(file)).length < 100; i++) await readFile(file).catch(() => undefined)
      const written = (await lines(file)).length
      expect(written).toBeGreaterThanOrEqual(100)
      expect(written).toBeLessThan(201)
    } finally {
      vi.useRealTimers()
    }
  })
})
