import { afterEach, describe, expect, it } from 'vitest'
import { PickerError, type PickRequest } from '../endpoint-picker.js'
import { createRemotePicker, type RemotePicker } from './remote-picker.js'
import { type ExtProcServer, startExtProcServer } from './start-extproc-server.js'
import { createScriptedPicker, REFUSE_HEADER, type ScriptedPicker, testEndpoint } from './test-support/scripted-picker.js'

const A = testEndpoint(8001, { 'llm-d.ai/role': 'decode' })
const B = testEndpoint(8002)

const request = (overrides: Partial<PickRequest> = {}): PickRequest => ({
  requestId: 'req-1',
  path: '/v1/chat/completions',
  headers: { 'content-type': 'application/json', 'x-session-token': 's1' },
  body: { model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'Hi' }] },
  ...overrides,
})

describe('createRemotePicker against the ext_proc server', () => {
  let server: ExtProcServer | undefined
  let remote: RemotePicker | undefined
  let picker: ScriptedPicker
  afterEach(async () => {
    await remote?.close()
    await server?.close()
    server = remote = undefined
  })
  const startWith = async (scripted: ScriptedPicker, timeoutMs?: number) => {
    picker = scripted
    server = await startExtProcServer({ picker, grpcPort: 0, healthPort: 0 })
    remote = createRemotePicker({ target: `127.0.0.1:${server.grpcPort}`, timeoutMs })
    return remote
  }

  it('returns the remote decision: endpoint, fallbacks and added headers, mapped to known EndpointRefs', async () => {
    const r = await startWith(createScriptedPicker([A, B], { fallbacks: 1, decision: { headers: { 'x-prefiller-host-port': '127.0.0.1:9000' } } }))
    const unknown = await r.pick(request({ requestId: 'req-unknown' }))
    expect(unknown.endpoint).toMatchObject({ address: '127.0.0.1:8001', url: 'http://127.0.0.1:8001' })
    expect(unknown.fallbacks.map((endpoint) => endpoint.address)).toEqual(['127.0.0.1:8002'])

    r.setEndpoints([A, B])
    const decision = await r.pick(request())
    expect(decision.endpoint).toEqual(B)
    expect(decision.fallbacks).toEqual([A])
    expect(decision.headers).toEqual({ 'x-prefiller-host-port': '127.0.0.1:9000' })
    // What the remote picker saw: the same request.
    expect(picker.picks[1]).toMatchObject({ requestId: 'req-1', path: '/v1/chat/completions', body: request().body })
    expect(picker.picks[1]?.headers['x-session-token']).toBe('s1')
    expect(r.endpointStates()).toEqual([])
  })

  it('carries the whole Decision: removed and response headers, profiles, explain rows, and the subset hint', async () => {
    const r = await startWith(createScriptedPicker([A, B], { decision: { headers: {}, removeHeaders: ['x-prefiller-host-port'], responseHeaders: { 'x-session-token': 't1' } } }))
    const decision = await r.pick(request(), { explain: true, subset: ['127.0.0.1:8002'] })
    expect(picker.pickOptions[0]).toEqual({ explain: true, subset: ['127.0.0.1:8002'] })
    expect(decision).toMatchObject({ removeHeaders: ['x-prefiller-host-port'], responseHeaders: { 'x-session-token': 't1' }, profiles: ['default'] })
    expect(decision.endpoint.address).toBe('127.0.0.1:8002')
    expect(decision.explain).toEqual([{ profile: 'default', endpoint: 'default/ms-8002', scores: [{ scorer: 'queue-scorer', raw: 1, weight: 2, weighted: 2 }], total: 2, picked: true }])
    const plain = await r.pick(request({ requestId: 'req-2' }))
    expect(plain.explain).toBeUndefined()
    expect(picker.pickOptions[1]).toEqual({ explain: false })
  })

  it('reports completion with status, usage and the endpoint that served it', async () => {
    const r = await startWith(createScriptedPicker([A, B], { fallbacks: 1 }))
    r.setEndpoints([A, B])
    const decision = await r.pick(request({ requestId: 'req-done' }))
    r.complete({ decision, requestId: 'req-done', endpoint: decision.fallbacks[0]!, status: 200, promptTokens: 12, completionTokens: 34 })
    await expect.poll(() => picker.outcomes).toEqual([{ requestId: 'req-done', endpoint: B, status: 200, promptTokens: 12, completionTokens: 34 }])

    const failed = await r.pick(request({ requestId: 'req-fail' }))
    r.complete({ decision: failed, requestId: 'req-fail', endpoint: B, status: 503 })
    await expect.poll(() => picker.outcomes[1]).toEqual({ requestId: 'req-fail', endpoint: B, status: 503, promptTokens: undefined, completionTokens: undefined })
  })

  it('carries large bodies and header-only requests', async () => {
    const r = await startWith(createScriptedPicker([A]))
    const big = request({ body: { model: 'm', prompt: 'y'.repeat(300_000) } })
    await r.pick(big)
    expect(picker.picks[0]?.body).toEqual(big.body)
    await r.pick(request({ requestId: 'req-get', path: '/v1/models', body: undefined }))
    expect(picker.picks[1]).toMatchObject({ path: '/v1/models', body: undefined })
  })

  it('keeps the picker’s refusals: 429, 503 and the 400 for a body without model', async () => {
    const r = await startWith(createScriptedPicker([A]))
    await expect(r.pick(request({ headers: { [REFUSE_HEADER]: '429' } }))).rejects.toMatchObject({ status: 429, code: 'test_429' })
    await expect(r.pick(request({ headers: { [REFUSE_HEADER]: '503' } }))).rejects.toMatchObject({ status: 503, code: 'test_503' })
    const error = await r.pick(request({ body: { messages: [] } })).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(PickerError)
    expect(error).toMatchObject({ status: 400, code: 'model_not_found' })
  })

  it('fails with 503 picker_unavailable on timeout and when nothing listens', async () => {
    const stuck = createScriptedPicker([A])
    stuck.pick = () => new Promise(() => {})
    const r = await startWith(stuck, 150)
    const started = Date.now()
    await expect(r.pick(request())).rejects.toMatchObject({ status: 503, code: 'picker_unavailable' })
    expect(Date.now() - started).toBeLessThan(2_000)

    const dead = createRemotePicker({ target: '127.0.0.1:1', timeoutMs: 2_000 })
    await expect(dead.pick(request())).rejects.toMatchObject({ status: 503, code: 'picker_unavailable' })
    await dead.close()
  })

  it('two picks with the same request id are two streams, each completed by its own decision', async () => {
    const r = await startWith(createScriptedPicker([A, B]))
    const first = await r.pick(request({ requestId: 'req-twice' }))
    const second = await r.pick(request({ requestId: 'req-twice' }))
    r.complete({ decision: second, requestId: 'req-twice', endpoint: second.endpoint, status: 200 })
    await expect.poll(() => picker.outcomes.map((outcome) => outcome.status)).toEqual([200])
    r.complete({ decision: first, requestId: 'req-twice', endpoint: first.endpoint, status: 503 })
    r.complete({ decision: first, requestId: 'req-twice', endpoint: first.endpoint, status: 200 }) // a second complete is ignored
    await expect.poll(() => picker.outcomes.map((outcome) => [outcome.endpoint.id, outcome.status])).toEqual([[B.id, 200], [A.id, 503]])
  })

  it('close() cancels in-flight streams, which the server completes as 499', async () => {
    const r = await startWith(createScriptedPicker([A]))
    await r.pick(request({ requestId: 'req-open' }))
    await r.close()
    remote = undefined
    await expect.poll(() => picker.outcomes.map((outcome) => [outcome.requestId, outcome.status])).toEqual([['req-open', 499]])
  })
})
