import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { IDLE_VLLM_METRICS } from '../integration/upstreams.js'

/**
 * A stand-in for an external OpenAI-compatible server that reports exactly what it received (length, sha256, path),
 * and serves the vLLM gauges the picker scrapes.
 */
export async function startEchoModelServer(): Promise<{ url: string; server: Server; requests: number }> {
  const state = { requests: 0 }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (req.url === '/metrics') {
        res.end(IDLE_VLLM_METRICS)
        return
      }
      state.requests++
      const body = Buffer.concat(chunks)
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ path: req.url, method: req.method, length: body.length, sha256: createHash('sha256').update(body).digest('hex'), headers: req.headers }))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    get requests() {
      return state.requests
    },
  }
}
