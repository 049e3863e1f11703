import { describe, expect, it } from 'vitest'
import { formatLogLine, matchesFilter, parseLogLine } from './access-log-line.js'

const line = JSON.stringify({
  level: 30,
  start_time: '2026-12-06T21:00:00.000Z',
  request_id: 'abc',
  gateway: 'gw',
  method: 'POST',
  path: '/m/v1/chat/completions',
  protocol: 'HTTP/1.1',
  response_code: 200,
  response_flags: '-',
  route_name: 'my-first-model/qwen3-0-6b-kserve-route/v1-chat-completions-path',
  upstream_cluster: 'outbound|8000||pool.my-first-model.svc.cluster.local',
  upstream_host: '127.0.0.1:8001',
  attempts: 1,
  bytes_received: 106,
  bytes_sent: 656,
  duration_ms: 694,
  upstream_service_time_ms: 12,
  ttft_ms: 40,
  prompt_tokens: 20,
  completion_tokens: 5,
  cached_tokens: 16,
})

describe('access log lines', () => {
  it('prints one request per line, Envoy-style, plus route, TTFT and tokens', () => {
    expect(formatLogLine(parseLogLine(line)!, false)).toBe(
      '[2026-12-06T21:00:00.000Z] "POST /m/v1/chat/completions HTTP/1.1" 200 - 106 656 694ms 12ms "127.0.0.1:8001" outbound|8000||pool.my-first-model.svc.cluster.local route=my-first-model/qwen3-0-6b-kserve-route/v1-chat-completions-path ttft=40ms tokens=20→5 (16 cached) id=abc',
    )
    expect(formatLogLine(parseLogLine(line)!, true)).toContain('\x1b[32m200\x1b[0m')
  })

  it('skips lines that are not access-log records', () => {
    expect(parseLogLine('maitred: stack ready')).toBeUndefined()
    expect(parseLogLine('{"level":30,"msg":"x"}')).toBeUndefined()
  })

  it('filters by route (with or without namespace), endpoint and status class', () => {
    const r = parseLogLine(line)!
    expect(matchesFilter(r, { route: 'qwen3-0-6b-kserve-route' })).toBe(true)
    expect(matchesFilter(r, { route: 'my-first-model/qwen3-0-6b-kserve-route', endpoint: ':8001', status: '2xx' })).toBe(true)
    expect(matchesFilter(r, { status: '5xx' })).toBe(false)
    expect(matchesFilter(r, { status: '200' })).toBe(true)
    expect(matchesFilter(r, { endpoint: ':8002' })).toBe(false)
    expect(matchesFilter(r, { route: 'other' })).toBe(false)
  })
})
