import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
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

  it('buffers lines, then writes them: within the flush interval, and as 64 KiB of them fill the buffer', async () => {
    dir = await mkdtemp(join(tmpdir(), 'maitred-log-'))
    const file = join(dir, 'access.log')
    const log = createAccessLog(file)
    log(record(0))
    expect(await lines(file)).toHaveLength(0)
    await waitFor(async () => (await lines(file)).length === 1)
    expect(await lines(file)).toHaveLength(1)
    for (let i = 1; i <= 200; i++) log(record(i, { path: `/${'x'.repeat(400)}` }))
    await new Promise((r) => setImmediate(r))
    await waitFor(async () => (await lines(file)).length > 100)
    expect((await lines(file)).length).toBeGreaterThan(100)
  })
})
