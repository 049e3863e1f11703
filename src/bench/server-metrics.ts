import { request } from 'undici'
import { parsePrometheusText, type MetricSamples } from '../picker/datalayer/prometheus-text.js'

/** A model server whose Prometheus `/metrics` the benchmark reads before and after a run. */
export interface MetricsSource {
  /** How the report names it (an endpoint id, or host:port). */
  label: string
  /** The full /metrics URL. */
  url: string
}

interface Counters {
  prefixHits: number
  prefixQueries: number
  preemptions: number
  requests: number
}

/** Counters of each reachable source; an unreachable one is left out (a run must not fail on a missing scrape). */
export type MetricsSnapshot = Map<string, Counters>

/** What the servers saw during a run: differences of vLLM's counters between two snapshots. */
export interface ServerMetricsReport {
  /** prefix_cache_hits / prefix_cache_queries (tokens), summed over every server; null when nothing was served. */
  prefixCacheHitRate: number | null
  preemptions: number
  endpoints: { label: string; requests: number; share: number }[]
}

/** A counter's total over its series; vLLM's families are named with or without the `_total` suffix depending on the parser. */
function counter(samples: MetricSamples, name: string): number {
  const series = samples.get(`${name}_total`) ?? samples.get(name) ?? []
  return series.reduce((sum, s) => sum + s.value, 0)
}

export async function scrapeMetrics(sources: readonly MetricsSource[]): Promise<MetricsSnapshot> {
  const snapshot: MetricsSnapshot = new Map()
  await Promise.all(
    sources.map(async (source) => {
      try {
        const res = await request(source.url, { headersTimeout: 5000, bodyTimeout: 5000 })
        const text = await res.body.text()
        if (res.statusCode !== 200) return
        const samples = parsePrometheusText(text)
        snapshot.set(source.label, {
          prefixHits: counter(samples, 'vllm:prefix_cache_hits'),
          prefixQueries: counter(samples, 'vllm:prefix_cache_queries'),
          preemptions: counter(samples, 'vllm:num_preemptions'),
          requests: counter(samples, 'vllm:request_success'),
        })
      } catch {
        // unreachable: reported as absent
      }
    }),
  )
  return snapshot
}

export function metricsDelta(sources: readonly MetricsSource[], before: MetricsSnapshot, after: MetricsSnapshot): ServerMetricsReport | undefined {
  const labels = sources.map((s) => s.label).filter((l) => before.has(l) && after.has(l))
  if (labels.length === 0) return undefined
  const diff = (label: string, key: keyof Counters) => after.get(label)![key] - before.get(label)![key]
  const total = (key: keyof Counters) => labels.reduce((sum, l) => sum + diff(l, key), 0)
  const queries = total('prefixQueries')
  const requests = total('requests')
  return {
    // A server without prefix caching counts no queries and reuses nothing: 0 % hits once it has served requests.
    prefixCacheHitRate: queries > 0 ? total('prefixHits') / queries : requests > 0 ? 0 : null,
    preemptions: total('preemptions'),
    endpoints: labels.map((label) => ({ label, requests: diff(label, 'requests'), share: requests > 0 ? diff(label, 'requests') / requests : 0 })),
  }
}
