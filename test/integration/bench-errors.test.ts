import { afterEach, describe, expect, it } from 'vitest'
import { sendStreamingRequest, type TargetOptions } from '../../src/bench/openai-stream-request.js'
import { runStrategy } from '../../src/bench/run-strategy.js'
import { summarize } from '../../src/bench/summarize.js'
import type { WorkItem, Workload } from '../../src/bench/workload.js'
import { startScriptedServer, type ScriptedServer } from './scripted-openai-server.js'

const item: WorkItem = { group: 0, conversation: 0, turn: 1, prompt: 'hi', prefix: '', history: [], maxTokens: 4 }
const endless: Workload = { description: 'fixed', needsReplies: false, next: () => item, finished: () => {} }

let server: ScriptedServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const target = (s: ScriptedServer): TargetOptions => ({ baseUrl: s.baseUrl, model: 'm', endpoint: 'chat' })
const send = (s: ScriptedServer) => sendStreamingRequest(target(s), item, performance.now(), new AbortController().signal, true)

describe('bench request timing and errors', () => {
  it('times a stream: TTFT at the first token, ITL without it, TPOT with it, tokens from the usage chunk', async () => {
    server = await startScriptedServer({ ttftMs: 30, tokenGapMs: 20, tokens: 4 })
    const { record, reply } = await send(server)
    expect(record.status).toBe('ok')
    expect(record.outputTokens).toBe(4)
    expect(record.promptTokens).toBe(10)
    expect(record.ttftMs!).toBeGreaterThanOrEqual(29)
    // 3 gaps of 20 ms between 4 tokens (a busy client may read them a little late): ITL is their mean, without the
    // first token; TPOT spreads TTFT and the gaps over all 4 tokens.
    expect(record.itlMs!).toBeGreaterThan(10)
    expect(record.tpotMs!).toBeCloseTo((record.ttftMs! + 3 * record.itlMs!) / 4, 6)
    expect(record.endpoint).toBe('10.0.0.0:8000')
    expect(reply).toBe('tok0 tok1 tok2 tok3 ')
  })

  it('sends what GuideLLM sends: a streamed request with usage, an exact output length, and the API key', async () => {
    server = await startScriptedServer()
    await sendStreamingRequest({ ...target(server), apiKey: 'sk-test' }, item, performance.now(), new AbortController().signal, false)
    await sendStreamingRequest({ ...target(server), endpoint: 'completions' }, item, performance.now(), new AbortController().signal, false)
    const [chat, completion] = server.requests
    expect(chat!.authorization).toBe('Bearer sk-test')
    expect(chat!.body).toEqual({ model: 'm', stream: true, stream_options: { include_usage: true }, ignore_eos: true, max_completion_tokens: 4, messages: [{ role: 'user', content: 'hi' }] })
    expect(completion!.authorization).toBeUndefined()
    expect(completion!.body).toMatchObject({ prompt: 'hi', max_tokens: 4, stream: true })
  })

  it('counts an error event inside a 200 stream as an error, not a success (GuideLLM #743)', async () => {
    server = await startScriptedServer({ script: () => 'stream-error' })
    const { record } = await send(server)
    expect(record).toMatchObject({ status: 'error', error: 'stream_error' })
  })

  it('names HTTP errors by status, streams without [DONE] as truncated, refused connections as network', async () => {
    server = await startScriptedServer({ script: () => 'http-500' })
    expect((await send(server)).record).toMatchObject({ status: 'error', error: 'http_500' })
    await server.close()
    server = await startScriptedServer({ script: () => 'truncated' })
    expect((await send(server)).record).toMatchObject({ status: 'error', error: 'truncated' })
    const url = server.baseUrl
    await server.close()
    server = undefined
    const { record } = await sendStreamingRequest({ baseUrl: url, model: 'm', endpoint: 'chat' }, item, performance.now(), new AbortController().signal, false)
    expect(record).toMatchObject({ status: 'error', error: 'network' })
  })

  it('summarizes errors by kind over a run', async () => {
    const scripts = ['ok', 'stream-error', 'ok', 'http-500'] as const
    server = await startScriptedServer({ script: (i) => scripts[i % 4]! })
    const run = await runStrategy({ kind: 'synchronous' }, endless, target(server), { maxRequests: 8 }, 1)
    const summary = summarize({ kind: 'synchronous' }, run, { warmup: 0, cooldown: 0 }, undefined)
    expect(summary.requests).toMatchObject({ sent: 8, ok: 4, errors: 4, incomplete: 0 })
    expect(summary.errorsByKind).toEqual({ stream_error: 2, http_500: 2 })
    expect(summary.ttftMs.count).toBe(4)
  })
})
