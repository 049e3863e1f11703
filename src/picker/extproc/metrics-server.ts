import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'

export interface MetricsServer {
  readonly port: number
  close(): Promise<void>
}

/** Prometheus text on `GET /metrics` (GIE's `--metrics-port`, 9090); anything else is an OpenAI-shaped 404. */
export async function startMetricsServer(options: { registry: Registry; port: number; host: string }): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      const body = JSON.stringify({ error: { message: `no route for ${request.method} ${path}`, type: 'not_found_error', code: 'not_found' } })
      response.writeHead(404, { 'content-type': 'application/json' }).end(body)
      return
    }
    options.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': options.registry.contentType }).end(request.method === 'HEAD' ? undefined : text),
      (error: unknown) => {
        const body = JSON.stringify({ error: { message: `collecting metrics failed: ${String(error)}`, type: 'internal_error', code: 'metrics_failed' } })
        response.writeHead(500, { 'content-type': 'application/json' }).end(body)
      },
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
