import { Counter, Gauge, Registry } from 'prom-client'
import { BoundCounter, BoundHistogram, type HistogramSeries } from '../observability/bound-metrics.js'
import type { Engine, EngineObserver, EngineRequest, FinishReason } from './engine.js'

// vLLM's /metrics (V1 engine, spec/sim-vllm-guidellm.md §2): the same names, types, labels (model_name, engine) and buckets.
// Gauges and counters of engine state are read from the engine at scrape time, so they are always its true state; latency
// histograms are observed as requests progress, in simulated seconds. Those are bound series (resolved once for this model):
// prom-client validates and hashes the labels on every observation, ≈ 4 µs per generated token across the per-token series.

const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560]
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80]
const REQUEST_LATENCY_BUCKETS = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680]
const ITERATION_TOKENS_BUCKETS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384]
const N_BUCKETS = [1, 2, 5, 10, 20]

/** vLLM's build_1_2_5_buckets: 1, 2, 5, 10, 20, 50, … up to `max`. */
export function buckets125(max: number): number[] {
  const out: number[] = []
  for (let exp = 1; ; exp *= 10) {
    for (const m of [1, 2, 5]) {
      if (m * exp > max) return out
      out.push(m * exp)
    }
  }
}

/**
 * A histogram's one series (this model, engine 0), created at its first observation: as with prom-client, a histogram not
 * yet observed exposes no series.
 */
class ModelSeries {
  #series: HistogramSeries | undefined

  constructor(
    private readonly metric: BoundHistogram,
    private readonly modelName: string,
  ) {}

  observe(value: number): void {
    ;(this.#series ??= this.metric.labels(this.modelName, '0')).observe(value)
  }
}

export interface SimMetricsConfig {
  modelName: string
  maxModelLen: number
  blockSize: number
  numGpuBlocks: number
  enablePrefixCaching: boolean
  gpuMemoryUtilization: number
  /** Present when LoRA is enabled: vLLM exposes vllm:lora_requests_info only then. */
  maxLoras: number | null
}

export class SimMetrics {
  readonly registry = new Registry()
  readonly observer: EngineObserver
  private readonly requestParamsN: ModelSeries
  private readonly requestParamsMaxTokens: ModelSeries
  private readonly requestMaxGeneration: ModelSeries

  constructor(engine: Engine, config: SimMetricsConfig) {
    const labels = { model_name: config.modelName, engine: '0' }
    const registers = [this.registry]
    const labelNames = ['model_name', 'engine'] as const
    const state = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, labelNames, registers, collect: function () { this.set(labels, read()) } })
    const total = (name: string, help: string, read: () => number) =>
      new Counter({ name, help, labelNames, registers, collect: function () { this.reset(); this.inc(labels, read()) } })
    const histogram = (name: string, help: string, buckets: number[]) =>
      new ModelSeries(new BoundHistogram({ name, help, labelNames, buckets, registers }), labels.model_name)

    state('vllm:num_requests_running', 'Number of requests in model execution batches.', () => engine.numRunning)
    state('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', () => engine.numWaiting)
    state('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', () => engine.kv.usage())
    // Not a vLLM metric: how far the simulation runs behind the wall clock (simulated seconds), so an overloaded simulator
    // process is visible instead of silently stretching every latency.
    state('maitred_sim_clock_lag_seconds', 'How late the last engine step completed against the clock, in simulated seconds.', () => engine.clockLagMs / 1000)
    total('vllm:prefix_cache_queries_total', 'Prefix cache queries, in terms of number of queried tokens.', () => engine.prefixCacheQueries)
    total('vllm:prefix_cache_hits_total', 'Prefix cache hits, in terms of number of cached tokens.', () => engine.prefixCacheHits)
    total('vllm:num_preemptions_total', 'Cumulative number of preemption from the engine.', () => engine.numPreemptions)
    total('vllm:prompt_tokens_total', 'Number of prefill tokens processed.', () => engine.promptTokens)
    total('vllm:generation_tokens_total', 'Number of generation tokens processed.', () => engine.generationTokens)
    const requestSuccess = new BoundCounter({
      name: 'vllm:request_success_total',
      help: 'Count of successfully processed requests.',
      labelNames: ['model_name', 'engine', 'finished_reason'],
      registers,
    })

    const ttft = histogram('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', TTFT_BUCKETS)
    const itl = histogram('vllm:inter_token_latency_seconds', 'Histogram of inter-token latency in seconds.', ITL_BUCKETS)
    const tpot = histogram('vllm:time_per_output_token_seconds', 'Histogram of time per output token in seconds. DEPRECATED: Use vllm:inter_token_latency_seconds instead.', ITL_BUCKETS)
    const requestTpot = histogram('vllm:request_time_per_output_token_seconds', 'Histogram of time_per_output_token_seconds per request.', ITL_BUCKETS)
    const e2e = histogram('vllm:e2e_request_latency_seconds', 'Histogram of e2e request latency in seconds.', REQUEST_LATENCY_BUCKETS)
    const queue = histogram('vllm:request_queue_time_seconds', 'Histogram of time spent in WAITING phase for request.', REQUEST_LATENCY_BUCKETS)
    const inference = histogram('vllm:request_inference_time_seconds', 'Histogram of time spent in RUNNING phase for request.', REQUEST_LATENCY_BUCKETS)
    const prefill = histogram('vllm:request_prefill_time_seconds', 'Histogram of time spent in PREFILL phase for request.', REQUEST_LATENCY_BUCKETS)
    const decode = histogram('vllm:request_decode_time_seconds', 'Histogram of time spent in DECODE phase for request.', REQUEST_LATENCY_BUCKETS)
    const lenBuckets = buckets125(config.maxModelLen)
    const promptTokens = histogram('vllm:request_prompt_tokens', 'Number of prefill tokens processed.', lenBuckets)
    const generationTokens = histogram('vllm:request_generation_tokens', 'Number of generation tokens processed.', lenBuckets)
    this.requestMaxGeneration = histogram('vllm:request_max_num_generation_tokens', 'Histogram of maximum number of requested generation tokens.', lenBuckets)
    this.requestParamsMaxTokens = histogram('vllm:request_params_max_tokens', 'Histogram of the max_tokens request parameter.', lenBuckets)
    this.requestParamsN = histogram('vllm:request_params_n', 'Histogram of the n request parameter.', N_BUCKETS)
    const iterationTokens = histogram('vllm:iteration_tokens_total', 'Histogram of number of tokens per engine_step.', ITERATION_TOKENS_BUCKETS)

    new Gauge({
      name: 'vllm:cache_config_info',
      help: 'Information of the LLMEngine CacheConfig',
      labelNames: ['block_size', 'cache_dtype', 'enable_prefix_caching', 'engine', 'gpu_memory_utilization', 'num_cpu_blocks', 'num_gpu_blocks', 'prefix_caching_hash_algo'],
      registers,
    }).set(
      {
        block_size: String(config.blockSize),
        cache_dtype: 'auto',
        enable_prefix_caching: config.enablePrefixCaching ? 'True' : 'False',
        engine: '0',
        gpu_memory_utilization: String(config.gpuMemoryUtilization),
        num_cpu_blocks: 'None',
        num_gpu_blocks: String(config.numGpuBlocks),
        prefix_caching_hash_algo: 'sha256',
      },
      1,
    )

    if (config.maxLoras !== null) {
      const maxLora = String(config.maxLoras)
      new Gauge({
        name: 'vllm:lora_requests_info',
        help: 'Running stats on lora requests.',
        labelNames: ['max_lora', 'running_lora_adapters', 'waiting_lora_adapters'],
        registers,
        collect: function () {
          // One series per state; vLLM sets it to the current time.
          this.reset()
          this.set(
            { max_lora: maxLora, running_lora_adapters: [...engine.runningLoras].join(','), waiting_lora_adapters: [...engine.waitingLoras].join(',') },
            Date.now() / 1000,
          )
        },
      })
    }

    const seconds = (a: number | null, b: number | null) => (a === null || b === null ? null : Math.max(0, (b - a) / 1000))
    this.observer = {
      tokenGenerated: (req: EngineRequest, now: number, previous: number | null) => {
        if (previous === null) {
          ttft.observe(Math.max(0, now - req.arrivalMs) / 1000)
          return
        }
        const gap = (now - previous) / 1000
        itl.observe(gap)
        tpot.observe(gap)
      },
      requestFinished: (req: EngineRequest, reason: FinishReason) => {
        requestSuccess.labels(labels.model_name, labels.engine, reason).inc()
        if (reason === 'abort') return
        const observe = (h: ModelSeries, v: number | null) => {
          if (v !== null) h.observe(v)
        }
        observe(e2e, seconds(req.arrivalMs, req.finishedMs))
        observe(queue, seconds(req.arrivalMs, req.firstScheduledMs))
        observe(inference, seconds(req.firstScheduledMs, req.finishedMs))
        observe(prefill, seconds(req.firstScheduledMs, req.firstTokenMs))
        observe(decode, seconds(req.firstTokenMs, req.finishedMs))
        const decodeSeconds = seconds(req.firstTokenMs, req.finishedMs)
        if (decodeSeconds !== null && req.numGenerated > 1) requestTpot.observe(decodeSeconds / (req.numGenerated - 1))
        promptTokens.observe(req.numPromptTokens)
        generationTokens.observe(req.numGenerated)
      },
      stepCompleted: (numTokens: number) => iterationTokens.observe(numTokens),
    }
  }

  /** Per API request (a group of `n` sequences), as vLLM records them when the request finishes. */
  observeRequestParams(n: number, maxTokens: number, maxGenerated: number): void {
    this.requestParamsN.observe(n)
    this.requestParamsMaxTokens.observe(maxTokens)
    this.requestMaxGeneration.observe(maxGenerated)
  }
}
