import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { formatConfigError, type ConfigError } from '../config/config-error.js'
import { checkDuplicates, parseStackText } from '../config/load-stack.js'
import type { Resource } from '../config/resource.js'
import { deriveStack } from '../controller/derive-stack.js'
import { GatewayError, openAIErrorBody, sendOpenAIError } from '../gateway/openai-error.js'
import { readRequestBody } from '../gateway/request-body.js'
import type { StackRuntime } from './stack-runtime.js'
import { stackStatus } from './stack-status.js'

/** The body of `POST /api/v1/apply`: the stack's files, as text (the CLI may run in another directory). */
export interface ApplyRequest {
  documents: { file: string; text: string }[]
}

/**
 * The local admin API (Envoy's admin port, 9901 by default, loopback only): `GET /api/v1/status` for `maitred get`,
 * `POST /api/v1/apply` for `maitred apply`, `GET /api/v1/explain/<request-id>` for `maitred explain`, `GET /metrics` for Prometheus, `GET /healthz`.
 */
export async function startAdminServer(rt: StackRuntime, port: number, host = '127.0.0.1'): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (req.method === 'POST' && path === '/api/v1/apply') {
      applyRequest(rt, req).then(
        (result) => reply(result.errors.length > 0 ? 422 : 200, result.errors.length > 0 ? { ...JSON.parse(openAIErrorBody(422, result.message, 'invalid_config')), errors: result.errors } : { message: result.message }),
        (err: Error) =>
          err instanceof GatewayError ? sendOpenAIError(res, err.status, err.message, err.code) : sendOpenAIError(res, 500, `apply failed: ${err.message}`, 'apply_failed'),
      )
      return
    }
    if (req.method !== 'GET') return sendOpenAIError(res, 405, `${req.method} is not allowed on ${path}`, 'method_not_allowed')
    if (path === '/healthz') return void res.end('ok')
    if (path === '/api/v1/status') return reply(200, stackStatus(rt))
    if (path?.startsWith('/api/v1/explain/')) {
      // `maitred explain`: the full rows of a decision made with `x-maitred-explain: 1`, by request id.
      const id = path.slice('/api/v1/explain/'.length)
      const found = rt.explanations.get(id)
      return found ? reply(200, found) : sendOpenAIError(res, 404, `no explained decision for request ${id}`, 'not_found')
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
  return {
    url: `http://${host}:${actual}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      }),
  }
}

/** Validates the new configuration completely before touching the running one: invalid input changes nothing. */
async function applyRequest(rt: StackRuntime, req: IncomingMessage): Promise<{ message: string; errors: ConfigError[] }> {
  // A body over the limit rejects with its 413 GatewayError, answered as such (and the connection closed).
  const text = (await readRequestBody(req, 64 * 1024 * 1024)).toString('utf8')
  let body: ApplyRequest
  try {
    body = JSON.parse(text) as ApplyRequest
  } catch {
    return { message: 'the apply request must be JSON {"documents":[{"file","text"}]}', errors: [{ file: '-', resource: '-', path: '', message: 'invalid request body' }] }
  }
  const resources: Resource[] = []
  const errors: ConfigError[] = []
  for (const doc of body.documents ?? []) {
    const parsed = parseStackText(doc.text, doc.file)
    resources.push(...parsed.resources)
    errors.push(...parsed.errors)
  }
  errors.push(...checkDuplicates(resources))
  if (errors.length > 0) return { message: `configuration refused, the running one keeps serving:\n${errors.map(formatConfigError).join('\n')}`, errors }
  await rt.apply(deriveStack(resources))
  return { message: `applied ${resources.length} resources`, errors: [] }
}
