// Benchmark of the ext_proc server's own overhead, as Envoy sees it: `npx tsx src/picker/extproc/extproc-bench.ts`.
// One process, plaintext gRPC on 127.0.0.1, a trivial round-robin picker (so the picker's cost is excluded), Envoy's side
// played message for message: request headers, body in 16 KiB chunks, routing answer, the body echoed back (full duplex),
// then response headers and a JSON body with usage. Prompts of ~1k, 8k and 32k tokens (~4 bytes/token), both body modes,
// concurrency 1 and 32. "decision" is request start → routing answer; "stream" is the whole request/response exchange.
// CPU is the whole process (server and the Envoy-side driver together) per request.
import type { ExtProcClient } from './ext-proc-client.js'
import { createExtProcClient } from './ext-proc-client.js'
import type { ProcessingRequest, ProcessingResponse } from './ext-proc-messages.js'
import { recordToHeaderMap } from './header-map.js'
import type { ServedBodyMode } from './ext-proc-session.js'
import { startExtProcServer } from './start-extproc-server.js'
import { createScriptedPicker, testEndpoint } from './test-support/scripted-picker.js'

const ENVOY_CHUNK = 16 * 1024

function body(tokens: number): Buffer {
  return Buffer.from(JSON.stringify({ model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'word '.repeat(tokens) }], max_tokens: 16 }))
}

/** One request through one ext_proc stream; resolves with [decision ms, stream ms]. */
function exchange(client: ExtProcClient, mode: ServedBodyMode, payload: Buffer): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    let decided = 0
    let echoedBytes = 0
    let step: 'request' | 'response' = 'request'
    const call = client.Process()
    const write = (message: ProcessingRequest) => call.write(message)
    const sendResponse = () => {
      step = 'response'
      write({ response_headers: { headers: recordToHeaderMap({ ':status': '200', 'content-type': 'application/json' }), end_of_stream: false } })
      write({ response_body: { body: Buffer.from('{"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":16}}'), end_of_stream: true } })
      call.end()
    }
    call.on('data', (response: ProcessingResponse) => {
      if (step !== 'request') return
      if (response.immediate_response) return reject(new Error('refused'))
      const routed = response.request_headers?.response?.header_mutation ?? response.request_body?.response?.header_mutation
      if (routed && !decided) decided = performance.now()
      if (mode === 'BUFFERED' && response.response === 'request_headers') {
        write({ request_body: { body: payload, end_of_stream: true } })
        return
      }
      const streamed = response.request_body?.response?.body_mutation?.streamed_response
      if (streamed) echoedBytes += streamed.body.length
      if ((mode === 'BUFFERED' && response.response === 'request_body') || streamed?.end_of_stream) sendResponse()
    })
    call.on('error', reject)
    call.on('end', () => {
      if (mode === 'FULL_DUPLEX_STREAMED' && echoedBytes === 0) return reject(new Error('no body echoed'))
      resolve([decided - started, performance.now() - started])
    })
    write({
      request_headers: { headers: recordToHeaderMap({ ':method': 'POST', ':path': '/v1/chat/completions', 'content-type': 'application/json' }), end_of_stream: false },
      protocol_config: { request_body_mode: mode, response_body_mode: mode === 'BUFFERED' ? 'NONE' : mode, send_body_without_waiting_for_header_response: false },
    })
    if (mode === 'FULL_DUPLEX_STREAMED') {
      for (let offset = 0; offset < payload.length; offset += ENVOY_CHUNK) {
        write({ request_body: { body: payload.subarray(offset, offset + ENVOY_CHUNK), end_of_stream: offset + ENVOY_CHUNK >= payload.length } })
      }
    }
  })
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN

async function run(client: ExtProcClient, mode: ServedBodyMode, tokens: number, concurrency: number, requests: number) {
  const payload = body(tokens)
  for (let i = 0; i < 50; i++) await exchange(client, mode, payload) // warm-up
  const decisions: number[] = []
  const streams: number[] = []
  let next = 0
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < requests) {
        const [decision, stream] = await exchange(client, mode, payload)
        decisions.push(decision)
        streams.push(stream)
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  decisions.sort((a, b) => a - b)
  streams.sort((a, b) => a - b)
  return {
    mode,
    tokens,
    bodyKiB: Math.round(payload.length / 1024),
    concurrency,
    'req/s': Math.round(requests / seconds),
    'decision p50 ms': percentile(decisions, 50).toFixed(3),
    'decision p99 ms': percentile(decisions, 99).toFixed(3),
    'stream p50 ms': percentile(streams, 50).toFixed(3),
    'stream p99 ms': percentile(streams, 99).toFixed(3),
    'cpu µs/req': Math.round((cpu.user + cpu.system) / requests),
  }
}

const picker = createScriptedPicker([8001, 8002, 8003, 8004].map((port) => testEndpoint(port)), { fallbacks: 1 })
const server = await startExtProcServer({ picker, grpcPort: 0, healthPort: 0 })
const client = createExtProcClient(`127.0.0.1:${server.grpcPort}`)
const rows = []
for (const mode of ['FULL_DUPLEX_STREAMED', 'BUFFERED'] as const) {
  for (const tokens of [1_000, 8_000, 32_000]) {
    for (const concurrency of [1, 32]) rows.push(await run(client, mode, tokens, concurrency, tokens >= 32_000 ? 1_000 : 2_000))
  }
}
console.table(rows)
client.close()
await server.close()
