import { Counter, Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { createRemotePicker } from './remote-picker.js'
import { type ExtProcServer, startExtProcServer } from './start-extproc-server.js'
import { createScriptedPicker, REFUSE_HEADER, testEndpoint } from './test-support/scripted-picker.js'

describe('ext_proc request metrics on --metrics-port', () => {
  let server: ExtProcServer | undefined
  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  it('records running requests, duration, sizes and tokens; adds only its own refusals to the picker’s error counter', async () => {
    const registry = new Registry()
    // What an in-process picker sharing the registry registers (it counts its own picks and refusals).
    new Counter({ name: 'inference_objective_request_error_total', help: 'picker errors', labelNames: ['model_name', 'target_model_name', 'error_code'], registers: [registry] })
    server = await startExtProcServer({ picker: createScriptedPicker([testEndpoint(8001)]), grpcPort: 0, healthPort: 0, metricsPort: 0, registry })
    const remote = createRemotePicker({ target: `127.0.0.1:${server.grpcPort}` })
    const body = { model: 'Qwen/Qwen3-0.6B', prompt: 'hello' }
    const decision = await remote.pick({ requestId: 'm1', path: '/v1/completions', headers: { 'x-gateway-model-name-rewrite': 'qwen-small' }, body })
    await remote.pick({ requestId: 'm2', path: '/v1/completions', headers: {}, body }) // still running
    await expect(remote.pick({ requestId: 'm3', path: '/v1/completions', headers: { [REFUSE_HEADER]: '429' }, body })).rejects.toThrow()
    await expect(remote.pick({ requestId: 'm4', path: '/v1/completions', headers: {}, body: { prompt: 'no model' } })).rejects.toThrow()
    remote.complete({ decision, requestId: 'm1', endpoint: decision.endpoint, status: 200, promptTokens: 40, completionTokens: 8 })

    const labels = 'model_name="Qwen/Qwen3-0.6B",target_model_name="qwen-small"'
    const scrape = async () => (await fetch(`http://127.0.0.1:${server!.metricsPort}/metrics`)).text()
    await expect.poll(scrape).toContain(`inference_objective_input_tokens_sum{${labels}} 40`)
    const text = await scrape()
    expect(text).toContain(`inference_objective_output_tokens_sum{${labels}} 8`)
    expect(text).toContain('inference_objective_running_requests{model_name="Qwen/Qwen3-0.6B"} 1')
    expect(text).toMatch(/inference_objective_request_duration_seconds_count\{[^}]*target_model_name="qwen-small"\} 1/)
    expect(text).toMatch(/inference_objective_request_sizes_sum\{[^}]*target_model_name="qwen-small"\} \d+/)
    expect(text).toContain('inference_objective_request_error_total{model_name="",target_model_name="",error_code="model_not_found"} 1')
    expect(text).not.toContain('error_code="test_429"')

    const missing = await fetch(`http://127.0.0.1:${server.metricsPort}/nope`)
    expect(missing.status).toBe(404)
    expect((await missing.json()).error.code).toBe('not_found')
    await remote.close()
  })
})
