import { Agent, request } from 'undici'

/** What one probe got back (status 0 when the request itself failed; `error` says why). */
export interface ProbeResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json: unknown
  ms: number
  error?: string
}

/**
 * The doctor's HTTP client. Gateways serve certificates from maitred's local CA and simulators may serve self-signed
 * ones, so probes do not verify (`curl -k`, as the seeds' checks do); verifying upstream TLS is the TLS check's job.
 */
const agent = new Agent({ connect: { rejectUnauthorized: false }, headersTimeout: 8000, bodyTimeout: 8000 })

/** Closes the probes' kept-alive connections (they would hold the CLI's process open for seconds). */
export const closeProbes = () => agent.close()

export async function probe(url: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: unknown } = {}): Promise<ProbeResponse> {
  const started = performance.now()
  try {
    const res = await request(url, {
      method: init.method ?? 'GET',
      headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      dispatcher: agent,
    })
    const text = await res.body.text()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    return { status: res.statusCode, headers: res.headers, text, json, ms: performance.now() - started }
  } catch (err) {
    const e = err as Error & { code?: string; cause?: { code?: string; message?: string } }
    return { status: 0, headers: {}, text: '', json: undefined, ms: performance.now() - started, error: e.cause?.message ?? `${e.code ?? ''} ${e.message}`.trim() }
  }
}

/** The OpenAI error message of a response, or its start. */
export function errorMessage(r: ProbeResponse): string {
  if (r.status === 0) return r.error ?? 'no response'
  const message = (r.json as { error?: { message?: unknown } } | undefined)?.error?.message
  return typeof message === 'string' ? message : r.text.slice(0, 200)
}

export const header = (r: ProbeResponse, name: string): string | undefined => {
  const v = r.headers[name]
  return Array.isArray(v) ? v[0] : v
}
