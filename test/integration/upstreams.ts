import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** vLLM's gauges, so the picker's scraper sees a healthy, idle endpoint. */
export const IDLE_VLLM_METRICS =
  'vllm:num_requests_waiting{model_name="m"} 0\nvllm:num_requests_running{model_name="m"} 0\nvllm:kv_cache_usage_perc{model_name="m"} 0\n'

export interface TestUpstream {
  url: string
  server: Server
  /** Requests seen, excluding /metrics scrapes. */
  hits: number
  close(): Promise<void>
}

/** A tiny model server with a scripted behaviour per request (on 127.0.0.1, OS-chosen port). */
export async function startUpstream(behaviour: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<TestUpstream> {
  const state = { hits: 0 }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (req.url === '/metrics') return void res.end(IDLE_VLLM_METRICS)
      state.hits++
      behaviour(req, res, Buffer.concat(chunks))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    get hits() {
      return state.hits
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

export const okJson = (name: string) => (_req: IncomingMessage, res: ServerResponse) => {
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ served_by: name }))
}

/** A stack file: one open gateway, one pool + picker + route for `/team/m`, served by the given external servers. */
export function stackYaml(urls: readonly string[], extra = '', serverTls = ''): string {
  const servers = urls
    .map(
      (url, i) => `---
apiVersion: maitred.dev/v1alpha1
kind: ModelServer
metadata:
  name: server-${i}
  namespace: team
  labels: {app.kubernetes.io/part-of: llminferenceservice, app.kubernetes.io/name: m, kserve.io/component: workload}
spec:
  external: {url: "${url}"}
${serverTls}
`,
    )
    .join('')
  return `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  listeners:
  - {name: http, protocol: HTTP, port: 8080, allowedRoutes: {namespaces: {from: All}}}
  - name: https
    protocol: HTTPS
    port: 8443
    tls: {certificateRefs: [{name: gw-tls}]}
    allowedRoutes: {namespaces: {from: All}}
---
apiVersion: serving.kserve.io/v1alpha2
kind: LLMInferenceService
metadata: {name: m, namespace: team}
spec:
  model: {uri: "hf://x/m", name: m}
  router: {scheduler: {}, route: {}, gateway: {refs: [{name: gw, namespace: infra}]}}
${servers}${extra}`
}
