import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { sendOpenAIError } from '../gateway/openai-error.js'
import type { StackRuntime } from '../runtime/stack-runtime.js'
import { LiveSnapshots } from './live-snapshot.js'

const WEB = new URL('../../web/', import.meta.url)
const FILES: Record<string, string> = { '/': 'index.html', '/live.js': 'live.js', '/live.css': 'live.css' }
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' }

/**
 * The live page (`maitred up --ui-port`, 8090 by default, loopback only): static files from web/ and `GET /api/live`,
 * the snapshot the page polls — the stack as a picture, per-endpoint share, queue, KV and prefix hits, the last decisions.
 */
export async function startLivePageServer(rt: StackRuntime, port: number, host = '127.0.0.1'): Promise<{ url: string; close(): Promise<void> }> {
  const snapshots = new LiveSnapshots(rt)
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    if (req.method !== 'GET') return sendOpenAIError(res, 405, `${req.method} is not allowed on ${path}`, 'method_not_allowed')
    if (path === '/api/live') {
      snapshots.get().then(
        (s) => {
          res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
          res.end(JSON.stringify(s))
        },
        (err: Error) => sendOpenAIError(res, 500, err.message, 'snapshot_failed'),
      )
      return
    }
    const file = FILES[path]
    if (!file) return sendOpenAIError(res, 404, `no page at ${path}`, 'not_found')
    readFile(new URL(file, WEB)).then(
      (body) => {
        res.writeHead(200, { 'content-type': TYPES[file.split('.').pop()!]!, 'cache-control': 'no-cache' })
        res.end(body)
      },
      (err: Error) => sendOpenAIError(res, 500, err.message, 'page_missing'),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
