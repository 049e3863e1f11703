import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { closeServer } from '../gateway/listener-server.js'
import { sendOpenAIError } from '../gateway/openai-error.js'
import type { StackRuntime } from './stack-runtime.js'
import { stackStatus } from './stack-status.js'

/**
 * The local admin API (Envoy's admin port, 9901 by default, loopback only): `GET /api/v1/status` for `maitred get`,
 * `GET /metrics` for Prometheus, `GET /healthz`.
 */
export async function startAdminServer(rt: StackRuntime, port: number, host = '127.0.0.1'): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET') return sendOpenAIError(res, 405, 'the admin API is read-only', 'method_not_allowed')
    if (path === '/healthz') return void res.end('ok')
    if (path === '/api/v1/status') {
      const body = JSON.stringify(stackStatus(rt))
      res.writeHead(200, { 'content-type': 'application/json' })
      return void res.end(body)
    }
    if (path === '/metrics') {
      rt.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': rt.registry.contentType })
          res.end(text)
        },
        (err: Error) => sendOpenAIError(res, 500, err.message, 'metrics_error'),
      )
      return
    }
    sendOpenAIError(res, 404, `no admin resource at ${path}`, 'not_found')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const actual = (server.address() as AddressInfo).port
  return { url: `http://${host}:${actual}`, close: () => closeServer(server) }
}
