import type { EndpointMetrics } from '../../endpoint.js'
import type { PluginContext } from '../../framework/registry.js'
import type { Endpoint, Plugin, SchedulingRequest } from '../../framework/types.js'

/** A deterministic PRNG (mulberry32) so tie-breaks in tests repeat. */
export function seededRandom(seed = 1): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function makeEndpoint(
  name: string,
  metrics: Partial<EndpointMetrics> = {},
  opts: { labels?: Record<string, string>; inFlightRequests?: number; inFlightTokens?: number; port?: number } = {},
): Endpoint {
  const port = opts.port ?? 8000 + (name.charCodeAt(name.length - 1) % 100)
  return {
    ref: { id: `default/${name}`, name, namespace: 'default', address: `127.0.0.1:${port}`, url: `http://127.0.0.1:${port}`, labels: opts.labels ?? {} },
    metrics: { waitingQueueSize: 0, runningRequestsSize: 0, kvCacheUsagePercent: 0, updatedAt: 1_000_000, ...metrics },
    inFlightRequests: opts.inFlightRequests ?? 0,
    inFlightTokens: opts.inFlightTokens ?? 0,
  }
}

export function makeRequest(over: Partial<SchedulingRequest> = {}): SchedulingRequest {
  const prompt = over.prompt ?? 'Hello there, how are you today?'
  return {
    requestId: 'req-1',
    path: '/v1/completions',
    headers: {},
    body: { model: 'm', prompt },
    targetModel: 'm',
    prompt,
    promptLength: prompt.length,
    inputTokens: Math.ceil(prompt.length / 4),
    priority: 0,
    now: 1_000_050,
    random: seededRandom(7),
    ...over,
  }
}

/** A varied set of candidates: different queues, KV use, labels and in-flight load. */
export function variedEndpoints(): Endpoint[] {
  return [
    makeEndpoint('pod-a', { waitingQueueSize: 0, runningRequestsSize: 3, kvCacheUsagePercent: 0.1 }, { labels: { 'llm-d.ai/role': 'decode' }, inFlightRequests: 2, inFlightTokens: 900 }),
    makeEndpoint('pod-b', { waitingQueueSize: 7, runningRequestsSize: 1, kvCacheUsagePercent: 0.9 }, { labels: { 'llm-d.ai/role': 'prefill' }, inFlightRequests: 0 }),
    makeEndpoint('pod-c', { waitingQueueSize: 3, runningRequestsSize: 8, kvCacheUsagePercent: 0.5, activeModels: ['m'], maxActiveModels: 2 }, { inFlightRequests: 5, inFlightTokens: 40_000 }),
    makeEndpoint('pod-d', { waitingQueueSize: 200, runningRequestsSize: 0, kvCacheUsagePercent: 1 }, { labels: { 'llm-d.ai/role': 'both', tier: 'gold' } }),
  ]
}

/** Builds a plugin as the loader would: parameters through its schema, peers for name lookups. */
export function createPlugin<T>(
  def: { type: string; parameters: { parse(x: unknown): unknown }; create(name: string, params: never, ctx: PluginContext): Plugin },
  params: unknown = {},
  peers: Plugin[] = [],
  name = def.type,
): T {
  const ctx = { now: () => 1_000_050, random: seededRandom(3), plugin: (n: string) => peers.find((p) => p.name === n), plugins: () => peers }
  return def.create(name, def.parameters.parse(params) as never, ctx) as T
}

/** A scheduling result whose primary profile chose `targets` (and optionally a prefill pick). */
export function resultFor(
  targets: Endpoint[],
  extra: Record<string, Endpoint[]> = {},
  primaryProfile = 'default',
): import('../../framework/types.js').SchedulingResult {
  return { primaryProfile, profileResults: new Map([[primaryProfile, { targets }], ...Object.entries(extra).map(([k, v]) => [k, { targets: v }] as const)]) }
}

export function emptyMutations(): import('../../framework/types.js').RequestMutations {
  return { headers: {}, removeHeaders: new Set(), responseHeaders: {} }
}
