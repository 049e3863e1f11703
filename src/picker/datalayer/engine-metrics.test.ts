import { describe, expect, it } from 'vitest'
import { BUILTIN_ENGINES, engineOf, extractMetrics, resolveEngines } from './engine-metrics.js'
import { parsePrometheusText } from './prometheus-text.js'

const VLLM = `# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="Qwen/Qwen3-0.6B"} 3.0
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="Qwen/Qwen3-0.6B"} 7.0
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{model_name="Qwen/Qwen3-0.6B"} 0.42
# TYPE vllm:cache_config_info gauge
vllm:cache_config_info{block_size="16",num_gpu_blocks="2048",enable_prefix_caching="True"} 1.0
# TYPE vllm:lora_requests_info gauge
vllm:lora_requests_info{max_lora="4",running_lora_adapters="sql,chat",waiting_lora_adapters=""} 1.700000001e+09
vllm:lora_requests_info{max_lora="4",running_lora_adapters="old",waiting_lora_adapters="x"} 1.6e+09
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{model_name="Qwen/Qwen3-0.6B"} 12345
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{le="1.0",model_name="Qwen/Qwen3-0.6B"} 4
vllm:e2e_request_latency_seconds_bucket{le="+Inf",model_name="Qwen/Qwen3-0.6B"} 5
vllm:e2e_request_latency_seconds_sum{model_name="Qwen/Qwen3-0.6B"} 3.2
vllm:e2e_request_latency_seconds_count{model_name="Qwen/Qwen3-0.6B"} 5
`

describe('extractMetrics', () => {
  it('maps vLLM names, cache config and the latest LoRA series', () => {
    const { metrics, missing } = extractMetrics(parsePrometheusText(VLLM), BUILTIN_ENGINES.vllm!, 42)
    expect(missing).toEqual([])
    expect(metrics).toEqual({
      waitingQueueSize: 3,
      runningRequestsSize: 7,
      kvCacheUsagePercent: 0.42,
      blockSize: 16,
      numGpuBlocks: 2048,
      activeModels: ['sql', 'chat'],
      waitingModels: [],
      maxActiveModels: 4,
      updatedAt: 42,
    })
  })
  it('falls back to the older vllm:gpu_cache_usage_perc', () => {
    const { metrics } = extractMetrics(parsePrometheusText('vllm:num_requests_waiting 1\nvllm:num_requests_running 0\nvllm:gpu_cache_usage_perc 0.9\n'), BUILTIN_ENGINES.vllm!, 0)
    expect(metrics.kvCacheUsagePercent).toBe(0.9)
  })
  it('maps SGLang and TRT-LLM (Triton labelled form) names', () => {
    const sg = extractMetrics(parsePrometheusText('sglang:num_queue_reqs 2\nsglang:num_running_reqs 5\nsglang:token_usage 0.3\nsglang:cache_config_info{page_size="32",num_pages="100"} 1\n'), BUILTIN_ENGINES.sglang!, 0)
    expect(sg.metrics).toMatchObject({ waitingQueueSize: 2, runningRequestsSize: 5, kvCacheUsagePercent: 0.3, blockSize: 32, numGpuBlocks: 100 })
    const trt = extractMetrics(
      parsePrometheusText('nv_trt_llm_request_metrics{request_type="waiting"} 4\nnv_trt_llm_request_metrics{request_type="scheduled"} 6\ntrtllm_kv_cache_utilization 0.5\n'),
      BUILTIN_ENGINES.trtllm!,
      0,
    )
    expect(trt.metrics).toMatchObject({ waitingQueueSize: 4, runningRequestsSize: 6, kvCacheUsagePercent: 0.5 })
  })
  it('reports missing signals and reads them as 0', () => {
    const { metrics, missing } = extractMetrics(parsePrometheusText('vllm:num_requests_running 2\n'), BUILTIN_ENGINES.vllm!, 0)
    expect(metrics.waitingQueueSize).toBe(0)
    expect(missing.join()).toContain('vllm:num_requests_waiting')
  })
  it('engineConfigs replace an engine wholesale; an empty spec disables the signal', () => {
    const engines = resolveEngines([{ name: 'vllm', queuedRequestsSpec: 'my_queue{pool="a"}', kvUsageSpec: 'my_kv' }])
    const { metrics, missing } = extractMetrics(parsePrometheusText('my_queue{pool="a"} 9\nmy_queue{pool="b"} 1\nmy_kv 0.2\n'), engines.vllm!, 0)
    expect(metrics).toMatchObject({ waitingQueueSize: 9, runningRequestsSize: 0, kvCacheUsagePercent: 0.2 })
    expect(missing).toEqual([])
  })
  it('chooses the engine from the pod label, defaulting to vllm', () => {
    const ref = (labels: Record<string, string>) => ({ id: 'x', name: 'x', namespace: 'd', address: 'h:1', url: 'http://h:1', labels })
    expect(engineOf(ref({}))).toBe('vllm')
    expect(engineOf(ref({ 'inference.networking.k8s.io/engine-type': 'sglang' }))).toBe('sglang')
    expect(engineOf(ref({ 'llm-d.ai/engine-type': 'trtllm', 'inference.networking.k8s.io/engine-type': 'sglang' }))).toBe('trtllm')
  })
})
