import { Counter, Gauge, type Registry } from 'prom-client'
import { BoundCounter, BoundHistogram } from '../observability/bound-metrics.js'
import type { EndpointState } from './endpoint.js'

/** What one pool's picker reports at scrape time. */
export interface PoolMetricsSource {
  readonly poolName: string
  endpointStates(): readonly EndpointState[]
  prefixIndexSize(): number
}

/**
 * The EPP's own series (GIE v1.x names, spec/epp.md §6), registered once per registry and shared by every pool's picker.
 * Those recorded on every request are bound metrics (label values in `labelNames` order).
 */
export class EppMetrics {
  /** model_name, target_model_name */
  readonly requests: BoundCounter
  /** model_name, target_model_name, error_code */
  readonly requestErrors: BoundCounter
  readonly schedulerE2e: BoundHistogram
  /** status, target_model_name, pod_name, namespace, port */
  readonly schedulerAttempts: BoundCounter
  /** extension_point, plugin_type, plugin_name */
  readonly pluginDuration: BoundHistogram
  /** model_name, target_model_name: recorded when the gateway reports the request complete (GIE: at the response's end). */
  readonly requestDuration: BoundHistogram
  readonly inputTokens: BoundHistogram
  readonly outputTokens: BoundHistogram
  /** Share of the prompt's blocks found for the chosen endpoint, and those blocks' size in bytes (per scheduled request). */
  readonly prefixHitRatio: BoundHistogram
  readonly prefixHitBytes: BoundHistogram
  readonly pollErrors: Counter<'name' | 'endpoint'>
  readonly pools = new Set<PoolMetricsSource>()

  private constructor(registry: Registry) {
    const registers = [registry]
    const pools = this.pools
    const poolGauge = (name: string, help: string, value: (states: readonly EndpointState[]) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['name'],
        registers,
        collect() {
          this.reset()
          for (const pool of pools) this.set({ name: pool.poolName }, value(pool.endpointStates().filter((s) => s.healthy)))
        },
      })
    const mean = (states: readonly EndpointState[], f: (s: EndpointState) => number) =>
      states.length === 0 ? 0 : states.reduce((sum, s) => sum + f(s), 0) / states.length
    this.requests = new BoundCounter({ name: 'inference_objective_request_total', help: 'Requests scheduled, by model.', labelNames: ['model_name', 'target_model_name'], registers })
    this.requestErrors = new BoundCounter({
      name: 'inference_objective_request_error_total',
      help: 'Requests the picker rejected, by error code.',
      labelNames: ['model_name', 'target_model_name', 'error_code'],
      registers,
    })
    this.schedulerE2e = new BoundHistogram({
      name: 'inference_extension_scheduler_e2e_duration_seconds',
      help: 'Time to schedule one request (all profiles).',
      buckets: [0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1],
      registers,
    })
    this.schedulerAttempts = new BoundCounter({
      name: 'inference_extension_scheduler_attempts_total',
      help: 'Scheduling attempts, by outcome and chosen endpoint.',
      labelNames: ['status', 'target_model_name', 'pod_name', 'namespace', 'port'],
      registers,
    })
    this.pluginDuration = new BoundHistogram({
      name: 'inference_extension_plugin_duration_seconds',
      help: 'Time spent in each plugin call.',
      labelNames: ['extension_point', 'plugin_type', 'plugin_name'],
      buckets: [0.000005, 0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005],
      registers,
    })
    const objective = ['model_name', 'target_model_name']
    this.requestDuration = new BoundHistogram({
      name: 'inference_objective_request_duration_seconds',
      help: 'End-to-end latency of completed requests, by model.',
      labelNames: objective,
      buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600],
      registers,
    })
    const tokenBuckets = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32778, 65536, 131072, 262144, 524288, 1048576]
    this.inputTokens = new BoundHistogram({ name: 'inference_objective_input_tokens', help: 'Prompt tokens of completed requests (from usage).', labelNames: objective, buckets: tokenBuckets, registers })
    this.outputTokens = new BoundHistogram({ name: 'inference_objective_output_tokens', help: 'Generated tokens of completed requests (from usage).', labelNames: objective, buckets: tokenBuckets, registers })
    this.prefixHitRatio = new BoundHistogram({
      name: 'inference_extension_prefix_indexer_hit_ratio',
      help: "Share of a prompt's blocks the prefix index found on the chosen endpoint.",
      buckets: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
      registers,
    })
    this.prefixHitBytes = new BoundHistogram({
      name: 'inference_extension_prefix_indexer_hit_bytes',
      help: "Bytes of a prompt's prefix the prefix index found on the chosen endpoint.",
      buckets: [0, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576],
      registers,
    })
    this.pollErrors = new Counter({ name: 'llm_d_epp_datalayer_poll_errors_total', help: 'Failed metric scrapes of model servers.', labelNames: ['name', 'endpoint'], registers })
    poolGauge('inference_pool_average_kv_cache_utilization', 'Mean KV-cache utilization of ready endpoints.', (s) => mean(s, (x) => x.metrics?.kvCacheUsagePercent ?? 0))
    poolGauge('inference_pool_average_queue_size', 'Mean waiting queue of ready endpoints.', (s) => mean(s, (x) => x.metrics?.waitingQueueSize ?? 0))
    poolGauge('inference_pool_average_running_requests', 'Mean running requests of ready endpoints.', (s) => mean(s, (x) => x.metrics?.runningRequestsSize ?? 0))
    poolGauge('inference_pool_ready_pods', 'Endpoints whose last scrape succeeded.', (s) => s.length)
    new Gauge({
      name: 'inference_pool_per_pod_queue_size',
      help: 'Waiting queue per endpoint.',
      labelNames: ['name', 'model_server_pod'],
      registers,
      collect() {
        this.reset()
        for (const pool of pools) {
          for (const s of pool.endpointStates()) if (s.metrics) this.set({ name: pool.poolName, model_server_pod: s.endpoint.name }, s.metrics.waitingQueueSize)
        }
      },
    })
    new Gauge({
      name: 'inference_extension_prefix_indexer_size',
      help: 'Distinct prompt blocks in the approximate prefix index.',
      registers,
      collect() {
        let size = 0
        for (const pool of pools) size += pool.prefixIndexSize()
        this.set(size)
      },
    })
  }

  static #byRegistry = new WeakMap<Registry, EppMetrics>()

  /** The registry's EppMetrics, created on first use (several pools' pickers share one registry). */
  static for(registry: Registry): EppMetrics {
    let m = EppMetrics.#byRegistry.get(registry)
    if (!m) EppMetrics.#byRegistry.set(registry, (m = new EppMetrics(registry)))
    return m
  }
}
