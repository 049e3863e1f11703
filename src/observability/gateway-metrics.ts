import type { Registry } from 'prom-client'
import type { AccessLogRecord } from '../gateway/access-log.js'
import { BoundCounter, BoundHistogram } from './bound-metrics.js'

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160]

/**
 * maitred's own gateway series (Envoy's cluster/route stats, named for Prometheus): requests by gateway, route, backend,
 * endpoint and status code; total and upstream latency; time to first token of streamed responses; retries; tokens.
 * Fed from the finished request's access-log record, so the request path does no extra work beyond these bound series.
 */
export class GatewayMetrics {
  readonly #requests: BoundCounter
  readonly #duration: BoundHistogram
  readonly #upstream: BoundHistogram
  readonly #ttft: BoundHistogram
  readonly #retries: BoundCounter
  readonly #promptTokens: BoundCounter
  readonly #completionTokens: BoundCounter

  constructor(registry: Registry) {
    const registers = [registry]
    const labelNames = ['gateway', 'route', 'backend']
    this.#requests = new BoundCounter({
      name: 'maitred_gateway_requests_total',
      help: 'Requests answered, by gateway, route, backend, endpoint (host:port) and status code.',
      labelNames: ['gateway', 'route', 'backend', 'endpoint', 'code'],
      registers,
    })
    this.#duration = new BoundHistogram({ name: 'maitred_gateway_request_duration_seconds', help: 'From request arrival to the end of the response.', labelNames, buckets: LATENCY_BUCKETS, registers })
    this.#upstream = new BoundHistogram({ name: 'maitred_gateway_upstream_latency_seconds', help: 'From the first upstream attempt to the response headers.', labelNames, buckets: LATENCY_BUCKETS, registers })
    this.#ttft = new BoundHistogram({ name: 'maitred_gateway_time_to_first_token_seconds', help: 'Streamed responses: from request arrival to the first event.', labelNames, buckets: LATENCY_BUCKETS, registers })
    this.#retries = new BoundCounter({ name: 'maitred_gateway_upstream_retries_total', help: 'Upstream attempts after the first.', labelNames, registers })
    this.#promptTokens = new BoundCounter({ name: 'maitred_gateway_prompt_tokens_total', help: 'Prompt tokens of answered requests (from usage).', labelNames, registers })
    this.#completionTokens = new BoundCounter({ name: 'maitred_gateway_completion_tokens_total', help: 'Generated tokens of answered requests (from usage).', labelNames, registers })
  }

  observe(r: AccessLogRecord): void {
    const gateway = r.gateway
    const route = r.route_name ?? ''
    const backend = r.backend ?? ''
    this.#requests.labels(gateway, route, backend, r.upstream_host ?? '', codeText(r.response_code)).inc()
    this.#duration.labels(gateway, route, backend).observe(r.duration_ms / 1000)
    if (r.upstream_service_time_ms !== undefined) this.#upstream.labels(gateway, route, backend).observe(r.upstream_service_time_ms / 1000)
    if (r.ttft_ms !== undefined) this.#ttft.labels(gateway, route, backend).observe(r.ttft_ms / 1000)
    if (r.attempts > 1) this.#retries.labels(gateway, route, backend).inc(r.attempts - 1)
    if (r.prompt_tokens !== undefined) this.#promptTokens.labels(gateway, route, backend).inc(r.prompt_tokens)
    if (r.completion_tokens !== undefined) this.#completionTokens.labels(gateway, route, backend).inc(r.completion_tokens)
  }
}

/** Status codes as label text, made once each. */
const CODES: string[] = []
const codeText = (code: number) => (CODES[code] ??= String(code))
