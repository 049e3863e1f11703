import { type Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { Usage } from './response-usage.js'

/**
 * Request-lifecycle metrics only the ext_proc handler sees (GIE v1.x names, spec/epp.md §6): running requests, duration,
 * TTFT, sizes and tokens. `inference_objective_request_total` / `_request_error_total` belong to the picker, which counts
 * every pick and refusal; the handler only adds the refusals the picker never saw (bad bodies, subset misses) to the
 * picker's error counter when that is registered. A metric already registered under one of these names is reused.
 */
export interface ExtProcMetrics {
  requestPicked(model: string, targetModel: string): void
  /** A refusal made before or after the picker (the picker counts its own). */
  requestRefused(model: string, targetModel: string, errorCode: string): void
  firstResponseByte(model: string, targetModel: string, seconds: number): void
  requestFinished(model: string, targetModel: string, result: FinishedRequest): void
}

export interface FinishedRequest {
  seconds: number
  requestBytes: number
  responseBytes: number
  usage: Usage
}

const DURATION_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600]
const SIZE_BUCKETS = [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4194304, 8388608, 16777216, 33554432, 67108864, 134217728, 268435456, 536870912, 1073741824]
const TOKEN_BUCKETS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576]
const MODEL_LABELS = ['model_name', 'target_model_name'] as const

export function createExtProcMetrics(registry: Registry): ExtProcMetrics {
  const existing = <T>(name: string): T | undefined => registry.getSingleMetric(name) as T | undefined
  const histogram = (name: string, help: string, buckets: number[]) =>
    existing<Histogram<string>>(name) ?? new Histogram({ name, help, labelNames: MODEL_LABELS, buckets, registers: [registry] })

  const running =
    existing<Gauge<string>>('inference_objective_running_requests') ??
    new Gauge({ name: 'inference_objective_running_requests', help: 'Inference objective number of running requests in each model.', labelNames: ['model_name'], registers: [registry] })
  const duration = histogram('inference_objective_request_duration_seconds', 'Inference objective response latency distribution in seconds for each model and target model.', DURATION_BUCKETS)
  const ttft = histogram('inference_objective_request_ttft_seconds', 'Inference objective time to first response byte in seconds for each model and target model.', DURATION_BUCKETS)
  const requestSizes = histogram('inference_objective_request_sizes', 'Inference objective requests size distribution in bytes for each model and target model.', SIZE_BUCKETS)
  const responseSizes = histogram('inference_objective_response_sizes', 'Inference objective responses size distribution in bytes for each model and target model.', SIZE_BUCKETS)
  const inputTokens = histogram('inference_objective_input_tokens', 'Inference objective input token count distribution for requests in each model.', TOKEN_BUCKETS)
  const outputTokens = histogram('inference_objective_output_tokens', 'Inference objective output token count distribution for requests in each model.', TOKEN_BUCKETS)
  const cachedTokens = histogram('inference_objective_prompt_cached_tokens', 'Inference objective prompt cached token count distribution for requests in each model.', TOKEN_BUCKETS)

  return {
    requestPicked(model) {
      running.inc({ model_name: model })
    },
    requestRefused(model, targetModel, errorCode) {
      existing<Counter<string>>('inference_objective_request_error_total')?.inc({ model_name: model, target_model_name: targetModel, error_code: errorCode })
    },
    firstResponseByte(model, targetModel, seconds) {
      ttft.observe({ model_name: model, target_model_name: targetModel }, seconds)
    },
    requestFinished(model, targetModel, result) {
      const labels = { model_name: model, target_model_name: targetModel }
      running.dec({ model_name: model })
      duration.observe(labels, result.seconds)
      requestSizes.observe(labels, result.requestBytes)
      responseSizes.observe(labels, result.responseBytes)
      if (result.usage.promptTokens !== undefined) inputTokens.observe(labels, result.usage.promptTokens)
      if (result.usage.completionTokens !== undefined) outputTokens.observe(labels, result.usage.completionTokens)
      if (result.usage.cachedTokens !== undefined) cachedTokens.observe(labels, result.usage.cachedTokens)
    },
  }
}
