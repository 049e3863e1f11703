import { z } from 'zod'
import type { EndpointMetrics, EndpointRef } from '../endpoint.js'
import type { MetricSamples, Sample } from './prometheus-text.js'

/**
 * Which metric carries each canonical signal, per engine. Specs are PromQL-like selectors
 * (`name` or `name{label=value,…}`); a list means "the first that exists"; an empty string disables the signal.
 */
export const engineConfigSchema = z.strictObject({
  name: z.string().min(1),
  queuedRequestsSpec: z.string().optional(),
  runningRequestsSpec: z.string().optional(),
  kvUsageSpec: z.string().optional(),
  loraSpec: z.string().optional(),
  cacheInfoSpec: z.string().optional(),
})
export type EngineConfig = z.infer<typeof engineConfigSchema>

interface EngineSpecs {
  readonly queued: readonly string[]
  readonly running: readonly string[]
  readonly kvUsage: readonly string[]
  readonly lora: readonly string[]
  readonly cacheInfo: readonly string[]
  /** Labels of the cache-info metric holding block size (tokens) and block count. */
  readonly cacheLabels: { readonly blockSize: string; readonly numBlocks: string }
}

/** The built-in engine configs (GIE v1.3 flags / llm-d HEAD `core-metrics-extractor`). */
export const BUILTIN_ENGINES: Readonly<Record<string, EngineSpecs>> = {
  vllm: {
    queued: ['vllm:num_requests_waiting'],
    running: ['vllm:num_requests_running'],
    kvUsage: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'],
    lora: ['vllm:lora_requests_info'],
    cacheInfo: ['vllm:cache_config_info'],
    cacheLabels: { blockSize: 'block_size', numBlocks: 'num_gpu_blocks' },
  },
  sglang: {
    queued: ['sglang:num_queue_reqs'],
    running: ['sglang:num_running_reqs'],
    kvUsage: ['sglang:token_usage'],
    lora: [],
    cacheInfo: ['sglang:cache_config_info'],
    cacheLabels: { blockSize: 'page_size', numBlocks: 'num_pages' },
  },
  trtllm: {
    queued: ['trtllm_num_requests_waiting', 'nv_trt_llm_request_metrics{request_type=waiting}'],
    running: ['trtllm_num_requests_running', 'nv_trt_llm_request_metrics{request_type=scheduled}'],
    kvUsage: ['trtllm_kv_cache_utilization'],
    lora: [],
    cacheInfo: [],
    cacheLabels: { blockSize: 'tokens_per_block', numBlocks: 'max_num_blocks' },
  },
}

/** Pod labels naming the engine: llm-d HEAD, then GIE v1.5. */
export const ENGINE_LABELS = ['llm-d.ai/engine-type', 'inference.networking.k8s.io/engine-type'] as const

export function engineOf(ref: EndpointRef): string {
  for (const label of ENGINE_LABELS) {
    const v = ref.labels[label]
    if (v) return v
  }
  return 'vllm'
}

/** Built-ins with the `engineConfigs` overrides applied: an entry replaces the whole config of its engine. */
export function resolveEngines(overrides: readonly EngineConfig[]): Record<string, EngineSpecs> {
  const engines: Record<string, EngineSpecs> = { ...BUILTIN_ENGINES }
  const spec = (s: string | undefined) => (s ? [s] : [])
  for (const o of overrides) {
    engines[o.name] = {
      queued: spec(o.queuedRequestsSpec),
      running: spec(o.runningRequestsSpec),
      kvUsage: spec(o.kvUsageSpec),
      lora: spec(o.loraSpec),
      cacheInfo: spec(o.cacheInfoSpec),
      cacheLabels: BUILTIN_ENGINES[o.name]?.cacheLabels ?? BUILTIN_ENGINES.vllm!.cacheLabels,
    }
  }
  return engines
}

interface Selector {
  readonly name: string
  readonly labels: readonly (readonly [string, string])[]
}

function parseSelector(spec: string): Selector {
  const m = /^([^{\s]+)\s*(?:\{(.*)\})?$/.exec(spec.trim())
  if (!m) throw new Error(`invalid metric spec ${JSON.stringify(spec)}`)
  const labels = (m[2] ?? '')
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((pair) => {
      const [k = '', v = ''] = pair.split('=')
      return [k.trim(), v.trim().replace(/^"|"$/g, '')] as const
    })
  return { name: m[1]!, labels }
}

function find(samples: MetricSamples, specs: readonly string[]): Sample[] | undefined {
  for (const spec of specs) {
    const sel = parseSelector(spec)
    const family = samples.get(sel.name)
    if (!family) continue
    const matching = family.filter((s) => sel.labels.every(([k, v]) => s.labels[k] === v))
    if (matching.length > 0) return matching
  }
  return undefined
}

const list = (s: string | undefined) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : [])

/**
 * Canonical metrics of one scrape. Queue and running counts are summed over series (one per model name);
 * KV usage takes the highest. `missing` names signals whose metric was absent (reported once by the caller).
 */
export function extractMetrics(samples: MetricSamples, engine: EngineSpecs, now: number): { metrics: EndpointMetrics; missing: string[] } {
  const missing: string[] = []
  const read = (what: string, specs: readonly string[], combine: (values: number[]) => number): number => {
    if (specs.length === 0) return 0
    const found = find(samples, specs)
    if (!found) {
      missing.push(`${what} (${specs.join(' | ')})`)
      return 0
    }
    return combine(found.map((s) => s.value))
  }
  const sum = (v: number[]) => v.reduce((a, b) => a + b, 0)
  const metrics: EndpointMetrics = {
    waitingQueueSize: read('queue', engine.queued, sum),
    runningRequestsSize: read('running', engine.running, sum),
    kvCacheUsagePercent: read('kv usage', engine.kvUsage, (v) => Math.max(...v)),
    updatedAt: now,
  }
  const cache = find(samples, engine.cacheInfo)?.[0]
  if (cache) {
    const blockSize = Number(cache.labels[engine.cacheLabels.blockSize])
    const numBlocks = Number(cache.labels[engine.cacheLabels.numBlocks])
    if (blockSize > 0) metrics.blockSize = blockSize
    if (numBlocks > 0) metrics.numGpuBlocks = numBlocks
  }
  // vllm:lora_requests_info: the gauge value is a timestamp; the latest series is current.
  const lora = find(samples, engine.lora)?.reduce((a, b) => (b.value > a.value ? b : a))
  if (lora) {
    metrics.activeModels = list(lora.labels.running_lora_adapters)
    metrics.waitingModels = list(lora.labels.waiting_lora_adapters)
    const max = Number(lora.labels.max_lora)
    if (Number.isFinite(max)) metrics.maxActiveModels = max
  }
  return { metrics, missing }
}
