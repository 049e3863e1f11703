import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import type { AccessLogRecord } from '../gateway/access-log.js'
import { GatewayMetrics } from './gateway-metrics.js'

const record = (over: Partial<AccessLogRecord>): AccessLogRecord => ({
  start_time: '',
  request_id: 'r',
  gateway: 'gw',
  listener: 'http',
  method: 'POST',
  path: '/v1/chat/completions',
  protocol: 'HTTP/1.1',
  authority: undefined,
  response_code: 200,
  response_flags: '-',
  route_name: 'ns/route',
  backend: 'ns/pool',
  upstream_cluster: undefined,
  upstream_host: '127.0.0.1:8000',
  attempts: 1,
  bytes_received: 0,
  bytes_sent: 0,
  duration_ms: 120,
  upstream_service_time_ms: 20,
  x_forwarded_for: undefined,
  user_agent: undefined,
  ...over,
})

describe('GatewayMetrics', () => {
  it('counts requests by route, backend, endpoint and code, with latency, TTFT, retries and tokens', async () => {
    const registry = new Registry()
    const metrics = new GatewayMetrics(registry)
    metrics.observe(record({ ttft_ms: 30, prompt_tokens: 10, completion_tokens: 5 }))
    metrics.observe(record({ attempts: 3, response_code: 503, upstream_host: '127.0.0.1:8001', upstream_service_time_ms: undefined }))
    const text = await registry.metrics()
    expect(text).toContain('maitred_gateway_requests_total{gateway="gw",route="ns/route",backend="ns/pool",endpoint="127.0.0.1:8000",code="200"} 1')
    expect(text).toContain('maitred_gateway_requests_total{gateway="gw",route="ns/route",backend="ns/pool",endpoint="127.0.0.1:8001",code="503"} 1')
    expect(text).toContain('maitred_gateway_upstream_retries_total{gateway="gw",route="ns/route",backend="ns/pool"} 2')
    expect(text).toContain('maitred_gateway_upstream_latency_seconds_count{gateway="gw",route="ns/route",backend="ns/pool"} 1')
    expect(text).toContain('maitred_gateway_time_to_first_token_seconds_sum{gateway="gw",route="ns/route",backend="ns/pool"} 0.03')
    expect(text).toContain('maitred_gateway_request_duration_seconds_count{gateway="gw",route="ns/route",backend="ns/pool"} 2')
    expect(text).toContain('maitred_gateway_prompt_tokens_total{gateway="gw",route="ns/route",backend="ns/pool"} 10')
    expect(text).toContain('maitred_gateway_completion_tokens_total{gateway="gw",route="ns/route",backend="ns/pool"} 5')
  })
})
