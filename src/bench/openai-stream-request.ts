import { Agent, request } from 'undici'
import { chatMessages, completionPrompt, type WorkItem } from './workload.js'
import type { RequestRecord } from './request-record.js'

export interface TargetOptions {
  /** OpenAI base URL, up to and including `/v1`. */
  baseUrl: string
  model: string
  apiKey?: string | undefined
  endpoint: 'chat' | 'completions'
}

/** Connections are not capped: a profile's concurrency is the only limit on requests in flight. */
const dispatcher = new Agent({ connections: null, keepAliveTimeout: 30_000, connect: { rejectUnauthorized: false } })

export function requestBody(target: TargetOptions, item: WorkItem): Record<string, unknown> {
  const common = {
    model: target.model,
    stream: true,
    stream_options: { include_usage: true },
    ...(item.maxTokens !== undefined ? { ignore_eos: true } : {}),
  }
  // As GuideLLM sends them: chat limits with max_completion_tokens, completions with max_tokens.
  return target.endpoint === 'chat'
    ? { ...common, messages: chatMessages(item), ...(item.maxTokens !== undefined ? { max_completion_tokens: item.maxTokens } : {}) }
    : { ...common, prompt: completionPrompt(item), ...(item.maxTokens !== undefined ? { max_tokens: item.maxTokens } : {}) }
}

interface StreamChunk {
  error?: unknown
  choices?: { text?: string; delta?: { content?: string | null; reasoning_content?: string | null } }[]
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null
}

/**
 * Sends one streaming request and times it from the client: TTFT at the first event carrying text, ITL and TPOT from the
 * last token's time, token counts from the usage chunk (include_usage). An `{"error":…}` event inside a 200 stream is an
 * error (GuideLLM #743), as is a stream that ends without `data: [DONE]`. `runStart` is the run's origin for `startedAt`.
 */
export async function sendStreamingRequest(
  target: TargetOptions,
  item: WorkItem,
  runStart: number,
  signal: AbortSignal,
  keepReply: boolean,
): Promise<{ record: RequestRecord; reply: string | undefined }> {
  const start = performance.now()
  const record: RequestRecord = {
    startedAt: start - runStart,
    ttftMs: undefined,
    itlMs: undefined,
    tpotMs: undefined,
    latencyMs: 0,
    promptTokens: undefined,
    outputTokens: 0,
    status: 'ok',
    group: item.group,
  }
  let reply = ''
  let firstAt = -1
  let lastAt = -1
  let events = 0
  let usageTokens: number | undefined
  let done = false
  const finish = (status: RequestRecord['status'], error?: string) => {
    record.latencyMs = performance.now() - start
    record.status = status
    if (error !== undefined) record.error = error
    return { record, reply: keepReply ? reply : undefined }
  }
  const path = target.endpoint === 'chat' ? '/chat/completions' : '/completions'
  let response
  try {
    response = await request(`${target.baseUrl}${path}`, {
      method: 'POST',
      dispatcher,
      signal,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {}) },
      body: JSON.stringify(requestBody(target, item)),
    })
  } catch {
    return signal.aborted ? finish('incomplete') : finish('error', 'network')
  }
  const served = response.headers['x-gateway-destination-endpoint-served']
  if (typeof served === 'string') record.endpoint = served
  if (response.statusCode !== 200) {
    await response.body.dump().catch(() => {})
    return finish('error', `http_${response.statusCode}`)
  }
  let buffered = ''
  let streamError = false
  try {
    for await (const chunk of response.body) {
      buffered += (chunk as Buffer).toString('utf8')
      let newline: number
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim()
        buffered = buffered.slice(newline + 1)
        if (!line.startsWith('data:')) continue
        const data = line.slice(5).trim()
        if (data === '[DONE]') {
          done = true
          continue
        }
        let event: StreamChunk
        try {
          event = JSON.parse(data) as StreamChunk
        } catch {
          streamError = true
          continue
        }
        if (event.error !== undefined) streamError = true
        if (event.usage?.completion_tokens !== undefined) {
          usageTokens = event.usage.completion_tokens
          record.promptTokens = event.usage.prompt_tokens
        }
        const choice = event.choices?.[0]
        const text = choice?.text ?? choice?.delta?.content ?? choice?.delta?.reasoning_content ?? ''
        if (text !== '') {
          const now = performance.now()
          if (firstAt < 0) firstAt = now
          lastAt = now
          events++
          if (keepReply) reply += text
        }
      }
    }
  } catch {
    return signal.aborted ? finish('incomplete') : finish('error', 'network')
  }
  const tokens = usageTokens ?? events
  record.outputTokens = tokens
  if (firstAt >= 0) {
    record.ttftMs = firstAt - start
    record.tpotMs = tokens > 0 ? (lastAt - start) / tokens : undefined
    record.itlMs = tokens > 1 ? (lastAt - firstAt) / (tokens - 1) : undefined
  }
  if (streamError) return finish('error', 'stream_error')
  if (!done) return finish('error', 'truncated')
  return finish('ok')
}
