import { request } from 'undici'
import { fetchStackStatus } from '../cli/admin-client.js'
import type { MetricsSource } from './server-metrics.js'

/** The first model the server lists at `<base>/models`, as GuideLLM picks one when --model is not given. */
export async function firstModel(baseUrl: string, apiKey: string | undefined): Promise<string> {
  const res = await request(`${baseUrl}/models`, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} }).catch((err: Error) => {
    throw new Error(`cannot reach ${baseUrl}/models: ${err.message}`)
  })
  const body = (await res.body.json().catch(() => ({}))) as { data?: { id?: string }[] }
  const id = body.data?.[0]?.id
  if (res.statusCode !== 200 || id === undefined) throw new Error(`${baseUrl}/models answered ${res.statusCode} without a model: pass --model`)
  return id
}

/** `--metrics-url URL`: labelled by host:port; `/metrics` is appended when the URL has no path. */
export function metricsSourceOf(url: string): MetricsSource {
  const u = new URL(url)
  return { label: u.host, url: u.pathname === '/' ? `${u.origin}/metrics` : url }
}

/** Every endpoint of a running maitred stack (its admin API's status: what `maitred get endpoints` shows). */
export async function stackMetricsSources(admin: string): Promise<MetricsSource[]> {
  const status = await fetchStackStatus(admin)
  return status.endpoints.map((e) => ({ label: e.id, url: `${e.url}/metrics` }))
}
