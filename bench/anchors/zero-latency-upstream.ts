/**
 * A zero-latency OpenAI-shaped model server for the proxy benchmark (its own process, so that the proxy is what gets
 * measured): POST /v1/chat/completions answers at once, as one JSON body or (with `"stream": true`) as a few SSE chunks
 * and `[DONE]`; GET /metrics serves vLLM's gauges, idle, so maitred's picker scrapes a healthy endpoint.
 * Listens on 127.0.0.1, plain HTTP and (with --cert/--key) HTTPS for the direct row; prints `{"http":…,"https":…}`.
 */
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Server } from 'node:net'
import { parseArgs } from 'node:util'

const METRICS =
  'vllm:num_requests_waiting{model_name="bench"} 0\nvllm:num_requests_running{model_name="bench"} 0\nvllm:kv_cache_usage_perc{model_name="bench"} 0\n'
const CREATED = Math.floor(Date.now() / 1000)
const COMPLETION = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: CREATED,
  model: 'bench',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there, how can I help?' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 9, completion_tokens: 8, total_tokens: 17 },
})
const chunk = (delta: object, finish: string | null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: CREATED, model: 'bench', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
const SSE_CHUNKS = [chunk({ role: 'assistant', content: '' }, null), chunk({ content: 'Hello' }, null), chunk({ content: ' there' }, null), chunk({}, 'stop'), 'data: [DONE]\n\n']
/** The usage-only event vLLM sends last when asked (`stream_options.include_usage`). */
const SSE_USAGE = `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: CREATED, model: 'bench', choices: [], usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 } })}\n\n`

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'GET' && req.url === '/metrics') {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
    res.end(METRICS)
    return
  }
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}`, type: 'not_found_error', param: null, code: 404 } }))
      return
    }
    // A cheap check rather than JSON.parse: the benchmark's bodies are ours, and the upstream should cost next to nothing.
    const body = Buffer.concat(chunks)
    if (body.includes('"stream":true')) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      for (let i = 0; i < SSE_CHUNKS.length - 1; i++) res.write(SSE_CHUNKS[i])
      if (body.includes('"include_usage":true')) res.write(SSE_USAGE)
      res.end(SSE_CHUNKS.at(-1))
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(COMPLETION) })
      res.end(COMPLETION)
    }
  })
}

const listen = (server: Server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)))

const { values } = parseArgs({ options: { cert: { type: 'string' }, key: { type: 'string' } } })
const http = await listen(createServer({ keepAliveTimeout: 60_000 }, handle))
const https = values.cert && values.key ? await listen(createHttpsServer({ cert: readFileSync(values.cert), key: readFileSync(values.key), keepAliveTimeout: 60_000 }, handle)) : undefined
console.log(JSON.stringify({ http, https }))
// Exit normally on SIGTERM, so that `node --cpu-prof` can write its profile.
process.once('SIGTERM', () => process.exit(0))
