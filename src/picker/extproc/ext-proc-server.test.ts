import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { ProcessingResponse } from './ext-proc-messages.js'
import { headerOptionsToRecord } from './header-map.js'
import { immediateStatusCode } from './immediate-response.js'
import { type ExtProcServer, startExtProcServer } from './start-extproc-server.js'
import { fromStruct, toStruct } from './struct-value.js'
import { type EnvoyStream, openEnvoyStream } from './test-support/envoy-stream.js'
import { createScriptedPicker, REFUSE_HEADER, type ScriptedPicker, testEndpoint } from './test-support/scripted-picker.js'

const A = testEndpoint(8001)
const B = testEndpoint(8002)
const C = testEndpoint(8003)

interface Harness {
  server: ExtProcServer
  closeClient: () => void
  stream: () => EnvoyStream
  picker: ScriptedPicker
}

async function start(bodyMode: 'FULL_DUPLEX_STREAMED' | 'BUFFERED', picker: ScriptedPicker): Promise<Harness> {
  const server = await startExtProcServer({ picker, grpcPort: 0, healthPort: 0, bodyMode })
  const { close, stream } = openEnvoyStream(`127.0.0.1:${server.grpcPort}`)
  return { server, closeClient: close, stream, picker }
}

async function stop(harness: Harness | undefined): Promise<void> {
  harness?.closeClient()
  await harness?.server.close()
}

const chatBody = (extra: Record<string, unknown> = {}) =>
  Buffer.from(JSON.stringify({ model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 20, ...extra }))

function setHeaders(response: ProcessingResponse | null | undefined): Record<string, string> {
  return headerOptionsToRecord(response?.request_headers?.response?.header_mutation?.set_headers ?? response?.request_body?.response?.header_mutation?.set_headers)
}

function destinationFromMetadata(response: ProcessingResponse): unknown {
  return (fromStruct(response.dynamic_metadata)['envoy.lb'] as Record<string, unknown> | undefined)?.['x-gateway-destination-endpoint']
}

/** Reads streamed_response chunks until end_of_stream; returns them. */
async function readStreamedBody(stream: EnvoyStream, member: 'request_body' | 'response_body', expectEnd = true): Promise<Buffer[]> {
  const chunks: Buffer[] = []
  for (;;) {
    const response = await stream.next()
    expect(response.response).toBe(member)
    const streamed = response[member]?.response?.body_mutation?.streamed_response
    expect(streamed).toBeTruthy()
    chunks.push(Buffer.from(streamed!.body))
    if (streamed!.end_of_stream || !expectEnd) return chunks
  }
}

describe('ext_proc server, FULL_DUPLEX_STREAMED (GIE contract)', () => {
  let h: Harness | undefined
  afterEach(async () => {
    await stop(h)
    h = undefined
  })

  it('holds the headers until the body ends, then routes, rewrites the model and streams the body back', async () => {
    h = await start('FULL_DUPLEX_STREAMED', createScriptedPicker([A, B, C], { fallbacks: 1, decision: { headers: { 'x-prefiller-host-port': '10.0.0.9:8000' }, removeHeaders: ['x-spoofed'] } }))
    const s = h.stream()
    const body = chatBody()
    s.sendRequestHeaders({ 'content-type': 'application/json', 'content-length': String(body.length), 'x-gateway-model-name-rewrite': 'qwen-rewritten' })
    await s.expectNothing()
    s.send({ request_body: { body: body.subarray(0, 10), end_of_stream: false } })
    await s.expectNothing()
    s.send({ request_body: { body: body.subarray(10), end_of_stream: true } })

    const headers = await s.next()
    expect(headers.response).toBe('request_headers')
    expect(headers.request_headers?.response?.clear_route_cache).toBe(true)
    const set = setHeaders(headers)
    expect(set['x-gateway-destination-endpoint']).toBe('127.0.0.1:8001,127.0.0.1:8002')
    expect(set['x-prefiller-host-port']).toBe('10.0.0.9:8000')
    expect(set['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    expect(headers.request_headers?.response?.header_mutation?.remove_headers).toEqual(['x-spoofed'])
    expect(destinationFromMetadata(headers)).toBe('127.0.0.1:8001,127.0.0.1:8002')
    expect(fromStruct(headers.dynamic_metadata).maitred).toEqual({ profiles: ['default'] })

    const sent = Buffer.concat(await readStreamedBody(s, 'request_body'))
    expect(JSON.parse(sent.toString())).toEqual({ ...JSON.parse(body.toString()), model: 'qwen-rewritten' })
    expect(set['content-length']).toBe(String(sent.length))

    const pick = h.picker.picks[0]
    expect(pick?.path).toBe('/v1/chat/completions')
    expect(pick?.body?.model).toBe('qwen-rewritten')
    expect(pick?.requestId).toBe(set['x-request-id'])
    expect(pick?.headers[':path']).toBeUndefined()
  })

  it('re-sends a large body in chunks of at most 62 000 bytes', async () => {
    h = await start('FULL_DUPLEX_STREAMED', createScriptedPicker([A]))
    const s = h.stream()
    const body = chatBody({ messages: [{ role: 'user', content: 'x'.repeat(200_000) }] })
    s.sendRequestHeaders({ 'content-type': 'application/json', 'x-request-id': 'req-large' })
    for (let offset = 0; offset < body.length; offset += 16_384) {
      s.send({ request_body: { body: body.subarray(offset, offset + 16_384), end_of_stream: offset + 16_384 >= body.length } })
    }
    const headers = await s.next()
    expect(setHeaders(headers)['x-request-id']).toBeUndefined() // given by the client, not generated
    const chunks = await readStreamedBody(s, 'request_body')
    expect(chunks.length).toBe(Math.ceil(body.length / 62_000))
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(62_000)
    expect(Buffer.concat(chunks).equals(body)).toBe(true)
    expect(setHeaders(headers)['content-length']).toBe(String(body.length))
    expect(h.picker.picks[0]?.requestId).toBe('req-large')
  })

  it('follows protocol_config over the configured default mode', async () => {
    h = await start('BUFFERED', createScriptedPicker([B]))
    const s = h.stream()
    s.sendRequestHeaders({}, { extra: { protocol_config: { request_body_mode: 'FULL_DUPLEX_STREAMED', response_body_mode: 'FULL_DUPLEX_STREAMED', send_body_without_waiting_for_header_response: false } } })
    await s.expectNothing()
    s.send({ request_body: { body: chatBody(), end_of_stream: true } })
    const headers = await s.next()
    expect(headers.response).toBe('request_headers')
    expect(setHeaders(headers)['x-gateway-destination-endpoint']).toBe('127.0.0.1:8002')
    await readStreamedBody(s, 'request_body')
  })

  it('answers the response side, passes SSE chunks through and feeds streamed usage to complete()', async () => {
    h = await start('FULL_DUPLEX_STREAMED', createScriptedPicker([A, B], { fallbacks: 1 }))
    const s = h.stream()
    s.sendRequestHeaders({ 'x-request-id': 'req-sse' })
    s.send({ request_body: { body: chatBody({ stream: true, stream_options: { include_usage: true } }), end_of_stream: true } })
    await s.next()
    await readStreamedBody(s, 'request_body')

    // Envoy reports the endpoint that served it (here the fallback) in envoy.lb metadata.
    const served = { filter_metadata: { 'envoy.lb': toStruct({ 'x-gateway-destination-endpoint-served': '127.0.0.1:8002' }) } }
    s.send({
      response_headers: { headers: { headers: [{ key: ':status', raw_value: Buffer.from('200') }, { key: 'content-type', raw_value: Buffer.from('text/event-stream; charset=utf-8') }] }, end_of_stream: false },
      metadata_context: served,
    })
    const responseHeaders = await s.next()
    expect(responseHeaders.response).toBe('response_headers')
    expect(headerOptionsToRecord(responseHeaders.response_headers?.response?.header_mutation?.set_headers)['x-went-into-resp-headers']).toBe('true')

    const sse =
      'data: {"id":"1","choices":[{"delta":{"content":"Hel"}}]}\n\n' +
      'data: {"id":"1","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}\n\n' +
      'data: [DONE]\n\n'
    const cut = sse.indexOf('completion_tokens') // split inside the usage line
    const parts = [sse.slice(0, cut), sse.slice(cut)]
    for (const [index, part] of parts.entries()) {
      s.send({ response_body: { body: Buffer.from(part), end_of_stream: index === parts.length - 1 } })
      const echoed = await s.next()
      expect(echoed.response_body?.response?.body_mutation?.streamed_response?.body.toString()).toBe(part)
      expect(echoed.response_body?.response?.body_mutation?.streamed_response?.end_of_stream).toBe(index === parts.length - 1)
    }
    s.end()
    await s.status
    expect(h.picker.outcomes).toEqual([{ requestId: 'req-sse', endpoint: B, status: 200, promptTokens: 11, completionTokens: 7 }])
  })

  it('reads usage from a non-streamed JSON response', async () => {
    h = await start('FULL_DUPLEX_STREAMED', createScriptedPicker([C]))
    const s = h.stream()
    s.sendRequestHeaders({ 'x-request-id': 'req-json' })
    s.send({ request_body: { body: chatBody(), end_of_stream: true } })
    await s.next()
    await readStreamedBody(s, 'request_body')
    s.send({ response_headers: { headers: { headers: [{ key: ':status', value: '200' }, { key: 'content-type', value: 'application/json' }] }, end_of_stream: false } })
    await s.next()
    const json = Buffer.from(JSON.stringify({ id: 'x', choices: [], usage: { prompt_tokens: 30, completion_tokens: 5, total_tokens: 35, prompt_tokens_details: { cached_tokens: 16 } } }))
    s.send({ response_body: { body: json.subarray(0, 20), end_of_stream: false } })
    await s.next()
    expect(h.picker.outcomes).toEqual([])
    s.send({ response_body: { body: json.subarray(20), end_of_stream: true } })
    await s.next()
    expect(h.picker.outcomes).toEqual([{ requestId: 'req-json', endpoint: C, status: 200, promptTokens: 30, completionTokens: 5 }])
  })

  it('routes a header-only request at once, without Content-Length', async () => {
    h = await start('FULL_DUPLEX_STREAMED', createScriptedPicker([A]))
    const s = h.stream()
    s.sendRequestHeaders({ ':method': 'GET', ':path': '/v1/models?x=1' }, { endOfStream: true })
    const headers = await s.next()
    const set = setHeaders(headers)
    expect(set['x-gateway-destination-endpoint']).toBe('127.0.0.1:8001')
    expect(set['content-length']).toBeUndefined()
    expect(h.picker.picks[0]?.body).toBeUndefined()
    expect(h.picker.picks[0]?.path).toBe('/v1/models')
  })

  it('treats request trailers as the end of the body', async () => {
    h = await start('FULL_DUPLEX_STREAMED', createScriptedPicker([A]))
    const s = h.stream()
    s.sendRequestHeaders({})
    s.send({ request_body: { body: chatBody(), end_of_stream: false } })
    await s.expectNothing()
    s.send({ request_trailers: { trailers: { headers: [] } } })
    expect((await s.next()).response).toBe('request_headers')
    const chunks = await readStreamedBody(s, 'request_body', false)
    expect(chunks).toHaveLength(1)
    expect((await s.next()).response).toBe('request_trailers')
  })

  it('passes the subset hint to the picker, whose 503 comes back as an ImmediateResponse', async () => {
    h = await start('FULL_DUPLEX_STREAMED', createScriptedPicker([A, B, C], { fallbacks: 2 }))
    const hint = (list: string[]) => ({ metadata_context: { filter_metadata: { 'envoy.lb.subset_hint': toStruct({ 'x-gateway-destination-endpoint-subset': list }) } } })

    const inSubset = h.stream()
    inSubset.sendRequestHeaders({}, { extra: hint(['127.0.0.1:8003', '127.0.0.1:8002']) })
    inSubset.send({ request_body: { body: chatBody(), end_of_stream: true } })
    expect(setHeaders(await inSubset.next())['x-gateway-destination-endpoint']).toBe('127.0.0.1:8002,127.0.0.1:8003')
    expect(h.picker.pickOptions[0]?.subset).toEqual(['127.0.0.1:8003', '127.0.0.1:8002'])

    const outside = h.stream()
    outside.sendRequestHeaders({}, { extra: hint(['10.9.9.9:8000']) })
    outside.send({ request_body: { body: chatBody(), end_of_stream: true } })
    const refused = await outside.next()
    expect(immediateStatusCode(refused.immediate_response!)).toBe(503)
    expect(h.picker.outcomes).toEqual([])
  })

  it('explains on request and adds the picker’s response headers on the response path', async () => {
    h = await start('FULL_DUPLEX_STREAMED', createScriptedPicker([A, B], { decision: { headers: {}, responseHeaders: { 'x-session-token': 'tok' } } }))
    const s = h.stream()
    s.sendRequestHeaders({ 'x-maitred-explain': '1' })
    s.send({ request_body: { body: chatBody(), end_of_stream: true } })
    const headers = await s.next()
    expect(h.picker.pickOptions[0]?.explain).toBe(true)
    const decision = fromStruct(headers.dynamic_metadata).maitred as Record<string, unknown>
    expect(decision.responseHeaders).toEqual({ 'x-session-token': 'tok' })
    expect(decision.explain).toEqual([
      { profile: 'default', endpoint: 'default/ms-8001', scores: [{ scorer: 'queue-scorer', raw: 1, weight: 2, weighted: 2 }], total: 2, picked: true },
      { profile: 'default', endpoint: 'default/ms-8002', scores: [{ scorer: 'queue-scorer', raw: 0.5, weight: 2, weighted: 1 }], total: 1, picked: false },
    ])
    await readStreamedBody(s, 'request_body')
    s.send({ response_headers: { headers: { headers: [{ key: ':status', value: '200' }] }, end_of_stream: true } })
    const response = headerOptionsToRecord((await s.next()).response_headers?.response?.header_mutation?.set_headers)
    expect(response).toEqual({ 'x-went-into-resp-headers': 'true', 'x-session-token': 'tok', 'x-maitred-explain': 'default: default/ms-8001 queue-scorer=2 total=2*, default/ms-8002 queue-scorer=1 total=1' })
  })

  it('completes with 499 when the stream is cancelled before any response', async () => {
    h = await start('FULL_DUPLEX_STREAMED', createScriptedPicker([A]))
    const s = h.stream()
    s.sendRequestHeaders({ 'x-request-id': 'req-cancel' })
    s.send({ request_body: { body: chatBody(), end_of_stream: true } })
    await s.next()
    s.call.cancel()
    await expect.poll(() => h!.picker.outcomes).toEqual([{ requestId: 'req-cancel', endpoint: A, status: 499, promptTokens: undefined, completionTokens: undefined }])
  })
})

describe('ext_proc server, ImmediateResponse errors', () => {
  let h: Harness | undefined
  beforeAll(async () => {
    h = await start('FULL_DUPLEX_STREAMED', createScriptedPicker([A]))
  })
  afterAll(() => stop(h))

  const cases: { name: string; headers: Record<string, string>; body: Buffer; status: number; reason?: string; code: string; type: string }[] = [
    { name: 'missing model', headers: {}, body: Buffer.from('{"messages":[]}'), status: 400, code: 'model_not_found', type: 'invalid_request_error' },
    { name: 'invalid JSON', headers: {}, body: Buffer.from('{"model":'), status: 400, code: 'invalid_json', type: 'invalid_request_error' },
    { name: 'saturated', headers: { [REFUSE_HEADER]: '429' }, body: chatBody(), status: 429, reason: 'rejected-saturated', code: 'test_429', type: 'rate_limit_error' },
    { name: 'no endpoints', headers: { [REFUSE_HEADER]: '503' }, body: chatBody(), status: 503, reason: 'rejected-no-endpoints', code: 'test_503', type: 'service_unavailable' },
  ]
  for (const c of cases) {
    it(`${c.name} → ${c.status} with an OpenAI-shaped body`, async () => {
      const s = h!.stream()
      s.sendRequestHeaders(c.headers)
      s.send({ request_body: { body: c.body, end_of_stream: true } })
      const response = await s.next()
      expect(response.response).toBe('immediate_response')
      const immediate = response.immediate_response!
      expect(immediateStatusCode(immediate)).toBe(c.status)
      const headers = headerOptionsToRecord(immediate.headers?.set_headers)
      expect(headers['content-type']).toBe('application/json')
      expect(headers['x-llm-d-request-dropped-reason']).toBe(c.reason)
      const error = JSON.parse(Buffer.from(immediate.body!).toString()).error
      expect(error).toMatchObject({ type: c.type, code: c.code })
      expect(typeof error.message).toBe('string')
      // Nothing else is sent for this request, and the stream stays healthy.
      s.end()
      expect((await s.status).code).toBe(0)
    })
  }
})

describe('ext_proc server, BUFFERED (the seeds’ workaround)', () => {
  let h: Harness | undefined
  afterEach(async () => {
    await stop(h)
    h = undefined
  })

  it('continues the headers at once and carries routing, metadata and the new body in the body response', async () => {
    h = await start('BUFFERED', createScriptedPicker([A, B], { fallbacks: 1 }))
    const s = h.stream()
    s.sendRequestHeaders({ 'x-request-id': 'req-buf', 'x-llm-d-model-name-rewrite': 'target-model' })
    const headers = await s.next()
    expect(headers.response).toBe('request_headers')
    expect(headers.request_headers?.response?.header_mutation ?? null).toBeNull()
    expect(headers.dynamic_metadata ?? null).toBeNull()

    s.send({ request_body: { body: chatBody(), end_of_stream: true } })
    const body = await s.next()
    expect(body.response).toBe('request_body')
    const common = body.request_body!.response!
    expect(common.clear_route_cache).toBe(true)
    const set = setHeaders(body)
    expect(set['x-gateway-destination-endpoint']).toBe('127.0.0.1:8001,127.0.0.1:8002')
    expect(destinationFromMetadata(body)).toBe('127.0.0.1:8001,127.0.0.1:8002')
    expect(common.body_mutation?.mutation).toBe('body')
    const sent = Buffer.from(common.body_mutation!.body!)
    expect(JSON.parse(sent.toString()).model).toBe('target-model')
    expect(set['content-length']).toBe(String(sent.length))

    s.send({ response_headers: { headers: { headers: [{ key: ':status', value: '200' }, { key: 'content-type', value: 'application/json' }] }, end_of_stream: false } })
    await s.next()
    s.send({ response_body: { body: Buffer.from('{"usage":{"prompt_tokens":3,"completion_tokens":4}}'), end_of_stream: true } })
    const responseBody = await s.next()
    expect(responseBody.response).toBe('response_body')
    expect(responseBody.response_body?.response?.body_mutation ?? null).toBeNull()
    expect(h.picker.outcomes).toEqual([{ requestId: 'req-buf', endpoint: A, status: 200, promptTokens: 3, completionTokens: 4 }])
  })

  it('in STREAMED mode clears earlier chunks and replaces the last with the whole rewritten body', async () => {
    h = await start('BUFFERED', createScriptedPicker([C]))
    const s = h.stream()
    s.sendRequestHeaders({}, { extra: { protocol_config: { request_body_mode: 'STREAMED', response_body_mode: 'NONE', send_body_without_waiting_for_header_response: false } } })
    expect((await s.next()).response).toBe('request_headers')
    const body = chatBody()
    s.send({ request_body: { body: body.subarray(0, 15), end_of_stream: false } })
    const first = await s.next()
    expect(first.request_body?.response?.body_mutation?.clear_body).toBe(true)
    s.send({ request_body: { body: body.subarray(15), end_of_stream: true } })
    const last = await s.next()
    expect(Buffer.from(last.request_body!.response!.body_mutation!.body!).equals(body)).toBe(true)
    expect(destinationFromMetadata(last)).toBe('127.0.0.1:8003')
  })
})
