import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../sim/start-simulator.js'
import type { EndpointRef } from '../endpoint.js'
import type { EndpointPicker } from '../endpoint-picker.js'
import { createInProcessPicker } from '../in-process-picker.js'
import { headerOptionsToRecord } from './header-map.js'
import { immediateStatusCode } from './immediate-response.js'
import { type ExtProcServer, startExtProcServer } from './start-extproc-server.js'
import { toStruct } from './struct-value.js'
import { openEnvoyStream } from './test-support/envoy-stream.js'

/**
 * The real picker (default EndpointPickerConfig, scraping two simulated vLLM servers) behind the ext_proc server, with the
 * test playing Envoy: route by the picker's answer, forward the streamed body to the chosen simulator, pass its SSE
 * response back through the ext_proc stream, and check the usage reached the request metrics.
 */
describe('ext_proc end to end: in-process picker, simulated vLLM, Envoy played by the test', () => {
  const simulators: RunningSimulator[] = []
  let picker: EndpointPicker
  let server: ExtProcServer
  const registry = new Registry()

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) simulators.push(await startSimulator({ port: 0, timeScale: 50 }))
    const endpoints: EndpointRef[] = simulators.map((sim, i) => ({
      id: `default/sim-${i}`,
      name: `sim-${i}`,
      namespace: 'default',
      address: `127.0.0.1:${sim.port}`,
      url: sim.url,
      labels: {},
    }))
    picker = createInProcessPicker({ config: undefined, poolName: 'e2e-pool', registry })
    picker.setEndpoints(endpoints)
    server = await startExtProcServer({ picker, grpcPort: 0, healthPort: 0, metricsPort: 0, registry })
  })
  afterAll(async () => {
    await server?.close()
    await picker?.close()
    await Promise.all(simulators.map((sim) => sim.close()))
  })

  it('routes, forwards and accounts a streamed chat completion', async () => {
    const envoy = openEnvoyStream(`127.0.0.1:${server.grpcPort}`)
    try {
      const s = envoy.stream()
      const request = Buffer.from(JSON.stringify({ model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'Tell me about the maître d’.' }], max_tokens: 12, stream: true, stream_options: { include_usage: true } }))
      s.sendRequestHeaders({ 'content-type': 'application/json', 'content-length': String(request.length) })
      s.send({ request_body: { body: request, end_of_stream: true } })

      const routing = headerOptionsToRecord((await s.next()).request_headers?.response?.header_mutation?.set_headers)
      const destination = routing['x-gateway-destination-endpoint']?.split(',')[0]
      expect(simulators.map((sim) => `127.0.0.1:${sim.port}`)).toContain(destination)
      const upstreamBody: Buffer[] = []
      for (;;) {
        const streamed = (await s.next()).request_body?.response?.body_mutation?.streamed_response
        upstreamBody.push(Buffer.from(streamed!.body))
        if (streamed!.end_of_stream) break
      }

      // Envoy forwards to the ORIGINAL_DST the header names, with the body the picker sent back (fetch sets the
      // Content-Length itself, so check the picker's value matches).
      const forwarded = Buffer.concat(upstreamBody)
      expect(routing['content-length']).toBe(String(forwarded.length))
      const upstream = await fetch(`http://${destination}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: forwarded })
      expect(upstream.status).toBe(200)
      s.send({ response_headers: { headers: { headers: [{ key: ':status', value: '200' }, { key: 'content-type', value: upstream.headers.get('content-type') ?? '' }] }, end_of_stream: false } })
      expect(headerOptionsToRecord((await s.next()).response_headers?.response?.header_mutation?.set_headers)['x-went-into-resp-headers']).toBe('true')

      const sse: string[] = []
      for await (const chunk of upstream.body!) {
        s.send({ response_body: { body: Buffer.from(chunk), end_of_stream: false } })
        sse.push(Buffer.from((await s.next()).response_body!.response!.body_mutation!.streamed_response!.body).toString())
      }
      s.send({ response_body: { body: Buffer.alloc(0), end_of_stream: true } })
      expect((await s.next()).response_body?.response?.body_mutation?.streamed_response?.end_of_stream).toBe(true)
      s.end()
      await s.status

      const text = sse.join('')
      expect(text).toContain('data: [DONE]')
      const usage = JSON.parse(text.split('\n').filter((line) => line.includes('"usage"') && line.includes('prompt_tokens')).at(-1)!.slice(5)).usage
      const metrics = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text()
      expect(metrics).toContain(`inference_objective_input_tokens_sum{model_name="Qwen/Qwen3-0.6B",target_model_name="Qwen/Qwen3-0.6B"} ${usage.prompt_tokens}`)
      expect(metrics).toContain(`inference_objective_output_tokens_sum{model_name="Qwen/Qwen3-0.6B",target_model_name="Qwen/Qwen3-0.6B"} ${usage.completion_tokens}`)
      // The picker's own series share the registry and /metrics.
      expect(metrics).toContain('inference_objective_request_total{model_name="Qwen/Qwen3-0.6B",target_model_name="Qwen/Qwen3-0.6B"} 1')
    } finally {
      envoy.close()
    }
  })

  it('returns the real picker’s refusal (no endpoint in the proxy’s subset hint) as a 503 ImmediateResponse', async () => {
    const envoy = openEnvoyStream(`127.0.0.1:${server.grpcPort}`)
    try {
      const s = envoy.stream()
      const hint = { filter_metadata: { 'envoy.lb.subset_hint': toStruct({ 'x-gateway-destination-endpoint-subset': ['10.1.2.3:8000'] }) } }
      s.sendRequestHeaders({}, { extra: { metadata_context: hint } })
      s.send({ request_body: { body: Buffer.from('{"model":"Qwen/Qwen3-0.6B","prompt":"x"}'), end_of_stream: true } })
      const refused = (await s.next()).immediate_response!
      expect(immediateStatusCode(refused)).toBe(503)
      expect(JSON.parse(Buffer.from(refused.body!).toString()).error.code).toBe('rejected-no-endpoints')
    } finally {
      envoy.close()
    }
  })
})
