import parsePrometheusTextFormat from 'parse-prometheus-text-format'

export interface Sample {
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** Samples of a Prometheus text exposition by metric name (counters and gauges; histograms are not read here). */
export type MetricSamples = ReadonlyMap<string, readonly Sample[]>

export function parsePrometheusText(text: string): MetricSamples {
  const out = new Map<string, Sample[]>()
  for (const family of parsePrometheusTextFormat(text)) {
    const samples: Sample[] = []
    for (const m of family.metrics) {
      if (m.value === undefined) continue
      samples.push({ labels: m.labels ?? {}, value: Number(m.value) })
    }
    out.set(family.name, samples)
  }
  return out
}
