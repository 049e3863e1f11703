/**
 * The benchmark's floor for a Node proxy: a bare node:http(s) server forwarding every request to one upstream through an
 * undici Pool (keep-alive), streaming the body both ways — no routing, picking, metrics or logging. What maitred's
 * per-request CPU is compared with. Prints `{"http":…,"https":…}` once listening on 127.0.0.1.
 */
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Server } from 'node:net'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host'])

const { values } = parseArgs({ options: { upstream: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' } } })
if (!values.upstream) throw new Error('--upstream URL is required')
const pool = new Pool(values.upstream, { pipelining: 1, keepAliveTimeout: 60_000 })

function handle(req: IncomingMessage, res: ServerResponse): void {
  const headers: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value
  pool
    .stream({ path: req.url ?? '/', method: req.method as 'POST', headers, body: req }, ({ statusCode, headers: upstream }) => {
      for (const [name, value] of Object.entries(upstream)) if (value !== undefined && !HOP_BY_HOP.has(name)) res.setHeader(name, value)
      res.writeHead(statusCode)
      return res
    })
    .catch((err: Error) => {
      if (res.headersSent) return void res.destroy()
      res.writeHead(502, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { message: err.message, type: 'server_error', param: null, code: 'bad_gateway' } }))
    })
}

const listen = (server: Server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)))

const http = await listen(createServer({ keepAliveTimeout: 60_000 }, handle))
const https = values.cert && values.key ? await listen(createHttpsServer({ cert: readFileSync(values.cert), key: readFileSync(values.key), keepAliveTimeout: 60_000 }, handle)) : undefined
console.log(JSON.stringify({ http, https }))
// Exit normally on SIGTERM, so that `node --cpu-prof` can write its profile.
process.once('SIGTERM', () => process.exit(0))
