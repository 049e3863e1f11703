import type { Endpoint } from '../framework/types.js'

/** The same endpoint on another port of its host (llm-d `primaryPort`: the decode sidecar's port). */
export function withPort(e: Endpoint, port: number): Endpoint {
  const url = new URL(e.ref.url)
  url.port = String(port)
  const host = e.ref.address.slice(0, e.ref.address.lastIndexOf(':'))
  return { ...e, ref: { ...e.ref, address: `${host}:${port}`, url: url.origin } }
}
