import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** How the scripted server answers one request. */
export type Script = 'ok' | 'stream-error' | 'http-500' | 'truncated'

export interface ScriptedServer {
  baseUrl: string
  /** performance.timeOrigin-based arrival time (ms) of each request. */
  arrivals: number[]
  /** Each request's parsed JSON body and authorization header. */
  requests: { body: Record<string, unknown>; authorization: string | undefined }[]
  maxInFlight: number
  close(): Promise<void>
}

/**
 * An OpenAI-style streaming server for the bench's tests: `tokens` chat chunks `tokenGapMs` apart after `ttftMs`, a usage
 * chunk and `data: [DONE]` — or, per `script(i)`, an error event inside the 200 stream, an HTTP 500, or a stream cut short.
 */
export async function startScriptedServer(options: { ttftMs?: number; tokenGapMs?: number; tokens?: number; script?: (i: number) => Script } = {}): Promise<ScriptedServer> {
  const { ttftMs = 5, tokenGapMs = 2, tokens = 4, script = () => 'ok' } = options
  const arrivals: number[] = []
  const requests: ScriptedServer['requests'] = []
  let inFlight = 0
  let maxInFlight = 0
  let count = 0
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
  const chunk = (content: string) => `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] })}\n\n`
  const server: Server = createServer((req, res) => {
    const i = count++
    arrivals.push(performance.timeOrigin + performance.now())
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    let text = ''
    req.on('data', (d: Buffer) => (text += d.toString()))
    req.on('end', async () => {
      requests.push({ body: JSON.parse(text) as Record<string, unknown>, authorization: req.headers.authorization })
      const mode = script(i)
      try {
        if (mode === 'http-500') {
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'boom', type: 'InternalServerError', code: 500 } }))
          return
        }
        res.writeHead(200, { 'content-type': 'text/event-stream', 'x-gateway-destination-endpoint-served': `10.0.0.${i % 2}:8000` })
        await sleep(ttftMs)
        for (let t = 0; t < tokens; t++) {
          if (t > 0) await sleep(tokenGapMs)
          res.write(chunk(`tok${t} `))
          if (mode !== 'ok' && t === 0) break
        }
        if (mode === 'stream-error') res.write(`data: ${JSON.stringify({ error: { message: 'engine died', type: 'InternalServerError', code: 500 } })}\n\ndata: [DONE]\n\n`)
        if (mode === 'ok') res.write(`data: ${JSON.stringify({ id: 'x', choices: [], usage: { prompt_tokens: 10, completion_tokens: tokens } })}\n\ndata: [DONE]\n\n`)
        res.end()
      } finally {
        inFlight--
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    arrivals,
    requests,
    get maxInFlight() {
      return maxInFlight
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
