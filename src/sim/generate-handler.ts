import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Engine, EngineListener, EngineRequest, EngineRequestInit, FinishReason } from './engine.js'
import type { FailureInjector } from './failure-injection.js'
import { OpenAIError, modelNotFound } from './openai-error.js'
import { PREFILLER_HEADER, prefillRemotely, type KvTransferParams } from './pd-sidecar.js'
import { chatRequestSchema, completionRequestSchema, parseBody, type ChatRequest, type CompletionRequest } from './request-schemas.js'
import type { SimMetrics } from './sim-metrics.js'
import type { ResolvedSimOptions } from './sim-options.js'
import type { GeneratedOutput, TextGenerator } from './text-generator.js'
import type { ChatMessage, SimTokenizer } from './tokenizer.js'

// /v1/chat/completions and /v1/completions as vLLM serves them: the prompt is tokenized for real, every (prompt × n) sequence
// goes through the engine, and the response (JSON or SSE) follows the engine's pace token by token.

export interface SimContext {
  options: ResolvedSimOptions
  servedModelNames: string[]
  loraNames: Set<string>
  engine: Engine
  tokenizer: SimTokenizer
  generator: TextGenerator
  metrics: SimMetrics
  failures: FailureInjector
  /** This server's address, for the kv_transfer_params a prefill pod returns. */
  address(): { host: string; port: number }
  /** Waits `ms` simulated milliseconds (for slow-start failures); resolves early if the signal aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>
}

type Kind = 'chat' | 'completion'

interface Prompt {
  tokenIds: number[]
  /** The prompt text, for `echo`. */
  text: string
}

interface Sequence {
  index: number
  /** The prompt text when the completion echoes it. */
  echoText: string | null
  /** The output without its token ids (the engine has its own copy). */
  output: Omit<GeneratedOutput, 'tokenIds'>
  numTokens: number
  engineReq: EngineRequest | null
  emitted: number
  finishReason: FinishReason | null
  /** Prefill side of P/D: the blocks holding the prompt's KV, for kv_transfer_params. */
  blockIds: number[]
}

export async function handleGenerate(ctx: SimContext, kind: Kind, raw: unknown, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = kind === 'chat' ? parseBody(chatRequestSchema, raw) : parseBody(completionRequestSchema, raw)
  const model = body.model ?? ctx.servedModelNames[0] ?? ctx.options.model
  const loraName = ctx.loraNames.has(model) ? model : null
  if (loraName === null && !ctx.servedModelNames.includes(model)) throw modelNotFound(model)

  const stream = body.stream === true
  let kvParams = (body.kv_transfer_params ?? null) as KvTransferParams | null
  const remoteDecode = kvParams?.do_remote_decode === true
  if (remoteDecode && stream) throw new OpenAIError(400, 'Prefill does not support streaming', 'BadRequestError', 'stream')

  const aborter = new AbortController()
  const onClose = () => {
    if (!res.writableFinished) aborter.abort()
  }
  res.on('close', onClose)

  const failure = ctx.failures.draw()
  if (failure === 'rate_limit') {
    throw new OpenAIError(429, `Rate limit reached for ${model} in organization org-xxx on requests per min (RPM): Limit 3, Used 3, Requested 1.`)
  }
  if (failure === 'server_error') throw new OpenAIError(503, 'The server is overloaded or not ready yet.', 'InternalServerError')
  if (failure === 'hang') {
    // Never answers: the client (or its timeout) gives up.
    await new Promise<void>((resolve) => aborter.signal.addEventListener('abort', () => resolve(), { once: true }))
    return
  }
  if (failure === 'slow_start') await ctx.sleep(ctx.options.slowStartMs, aborter.signal)
  if (aborter.signal.aborted) return

  const prompts = kind === 'chat' ? [chatPrompt(ctx.tokenizer, body as ChatRequest)] : completionPrompts(ctx.tokenizer, body as CompletionRequest)
  const promptTokens = prompts.reduce((sum, p) => sum + p.tokenIds.length, 0)
  const longest = Math.max(...prompts.map((p) => p.tokenIds.length))
  const requestedMax = kind === 'chat' ? ((body as ChatRequest).max_completion_tokens ?? body.max_tokens) : body.max_tokens
  const maxTokens = requestedMax ?? (kind === 'chat' ? Math.max(1, ctx.options.maxModelLen - longest) : 16)
  if (longest + maxTokens > ctx.options.maxModelLen) {
    const where = kind === 'chat' ? 'messages' : 'prompt'
    throw new OpenAIError(
      400,
      `This model's maximum context length is ${ctx.options.maxModelLen} tokens. However, you requested ${longest + maxTokens} tokens (${longest} in the ${where}, ${maxTokens} in the completion). Please reduce the length of the ${where} or completion.`,
      'BadRequestError',
      where,
    )
  }

  // The decode side of llm-d's routing sidecar: prefill on the named pod first, then pull its KV.
  const prefiller = req.headers[PREFILLER_HEADER]
  if (typeof prefiller === 'string' && prefiller !== '' && ctx.options.role !== 'prefill' && kvParams?.do_remote_prefill !== true) {
    kvParams = await prefillRemotely(prefiller, kind === 'chat' ? '/v1/chat/completions' : '/v1/completions', raw as Record<string, unknown>, aborter.signal)
  }
  const remotePrefill = kvParams?.do_remote_prefill === true
  if (aborter.signal.aborted) return

  const n = body.n ?? 1
  const stop = body.stop == null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop
  const echo = kind === 'completion' && (body as CompletionRequest).echo === true
  const includeUsage = body.stream_options?.include_usage === true
  const plan: ResponsePlan = {
    kind,
    id: kind === 'chat' ? `chatcmpl-${randomUUID().replaceAll('-', '')}` : `cmpl-${randomUUID().replaceAll('-', '')}`,
    created: Math.floor(Date.now() / 1000),
    model,
    n,
    maxTokens,
    promptTokens,
    stream,
    includeUsage,
    continuousUsage: includeUsage && body.stream_options?.continuous_usage_stats === true,
    remoteDecode,
    resetMidStream: failure === 'connection_reset',
  }
  const sequences: Sequence[] = []
  const inits: EngineRequestInit[] = []
  for (const [p, prompt] of prompts.entries()) {
    for (let i = 0; i < n; i++) {
      const generated = ctx.generator.generate({
        maxTokens,
        maxTokensSet: requestedMax != null,
        ignoreEos: body.ignore_eos === true,
        stop,
        echoText: kind === 'chat' ? lastMessageText(body as ChatRequest) : prompt.text,
        seed: body.seed == null ? undefined : body.seed + p * n + i,
      })
      const { tokenIds, ...output } = capOutput(generated, maxTokens)
      const index = p * n + i
      inits.push({ id: `${plan.id}-${index}`, promptTokenIds: prompt.tokenIds, outputTokenIds: tokenIds, finishReason: output.finishReason, loraName, remotePrefill })
      sequences.push({ index, echoText: echo ? prompt.text : null, output, numTokens: tokenIds.length, engineReq: null, emitted: 0, finishReason: null, blockIds: [] })
    }
  }
  // Returned, not awaited: this frame (the body, the prompts, their token ids) is not kept alive for the whole stream.
  return respond(ctx, plan, sequences, startSequences(ctx, plan, sequences, inits, req, res, aborter), res, aborter, onClose)
}

/** What the response needs once the sequences run: the request's body and prompts are not kept for its lifetime. */
interface ResponsePlan {
  kind: Kind
  id: string
  created: number
  model: string
  n: number
  maxTokens: number
  promptTokens: number
  stream: boolean
  includeUsage: boolean
  continuousUsage: boolean
  remoteDecode: boolean
  resetMidStream: boolean
}

/** The sequences' shared state while they run: the SSE writer once every sequence is admitted. */
interface Running {
  plan: ResponsePlan
  req: IncomingMessage
  writer: SseWriter | null
  pending: number
  resolve(writer: SseWriter | null): void
}

/**
 * Submits every sequence (or throws the refusal, aborting those already admitted); resolves with the SSE writer, if any,
 * once all have finished.
 * Headers go out only once every sequence is admitted, so a refusal can still be a plain JSON error.
 */
function startSequences(
  ctx: SimContext,
  plan: ResponsePlan,
  sequences: Sequence[],
  inits: EngineRequestInit[],
  req: IncomingMessage,
  res: ServerResponse,
  aborter: AbortController,
): Promise<SseWriter | null> {
  let resolve: Running['resolve'] = () => {}
  const promise = new Promise<SseWriter | null>((r) => (resolve = r))
  const running: Running = { plan, req, writer: null, pending: sequences.length, resolve }
  const abortAll = () => {
    for (const s of sequences) if (s.engineReq !== null) ctx.engine.abort(s.engineReq)
  }
  // A plain loop: a callback would capture `inits`, and abortAll's closure (kept by the signal) would keep them alive.
  for (let k = 0; k < sequences.length; k++) {
    const seq = sequences[k] as Sequence
    const submitted = ctx.engine.submit(inits[k] as EngineRequestInit, listenerFor(seq, running))
    if (!submitted.ok) {
      abortAll()
      throw submitted.reason === 'queue_full'
        ? new OpenAIError(429, submitted.message, 'RateLimitError')
        : new OpenAIError(400, submitted.message, 'BadRequestError')
    }
    seq.engineReq = submitted.request
  }
  if (plan.stream) running.writer = new SseWriter(res, plan.kind, plan.id, plan.created, plan.model, plan.continuousUsage ? plan.promptTokens : null)
  aborter.signal.addEventListener('abort', abortAll)
  if (plan.resetMidStream && running.writer === null) req.socket.resetAndDestroy()
  return promise
}

function listenerFor(seq: Sequence, running: Running): EngineListener {
  return {
    onTokens: (engineReq) => {
      const from = seq.emitted
      seq.emitted = engineReq.numGenerated
      // One token per step: its piece as is, no array or string built per token.
      const pieces = seq.output.pieces
      const delta = seq.emitted === from + 1 ? (pieces[from] as string) : pieces.slice(from, seq.emitted).join('')
      const last = seq.emitted >= seq.numTokens
      if (last && running.plan.remoteDecode) seq.blockIds = [...engineReq.blocks]
      const writer = running.writer
      if (writer !== null) {
        if (from === 0) writer.start(seq)
        writer.delta(seq, delta, last ? seq.output.finishReason : null, last ? seq.output.stopReason : null)
        if (running.plan.resetMidStream) running.req.socket.resetAndDestroy()
      }
    },
    onFinish: (_engineReq, reason) => {
      seq.finishReason = reason
      if (--running.pending === 0) running.resolve(running.writer)
    },
  }
}

/** Waits for the sequences, then ends the stream (usage, [DONE]) or sends the whole JSON response. */
async function respond(
  ctx: SimContext,
  plan: ResponsePlan,
  sequences: Sequence[],
  finished: Promise<SseWriter | null>,
  res: ServerResponse,
  aborter: AbortController,
  onClose: () => void,
): Promise<void> {
  const sse = await finished
  res.off('close', onClose)
  if (aborter.signal.aborted) return
  // Aborted by the engine itself (the server is shutting down): drop the connection rather than pretend it finished.
  if (sequences.some((s) => s.finishReason === 'abort')) {
    res.destroy()
    return
  }

  const { kind, n, promptTokens } = plan
  const completionTokens = sequences.reduce((sum, s) => sum + s.emitted, 0)
  ctx.metrics.observeRequestParams(n, plan.maxTokens, Math.max(...sequences.map((s) => s.emitted)))
  const cachedTokens = sequences.filter((_, i) => i % n === 0).reduce((sum, s) => sum + (s.engineReq?.numCachedTokens ?? 0), 0)
  const usage = {
    prompt_tokens: promptTokens,
    total_tokens: promptTokens + completionTokens,
    completion_tokens: completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens },
  }

  if (sse !== null) {
    if (plan.includeUsage) sse.usage(usage)
    sse.done()
    return
  }
  const choices = sequences.map((s) => {
    const text = s.output.pieces.slice(0, s.emitted).join('')
    const common = { index: s.index, logprobs: null, finish_reason: s.output.finishReason, stop_reason: s.output.stopReason }
    if (kind === 'chat') return { ...common, message: { role: 'assistant', content: text, reasoning_content: null, tool_calls: [] } }
    return { ...common, text: s.echoText === null ? text : s.echoText + text, prompt_logprobs: null }
  })
  const response: Record<string, unknown> = {
    id: plan.id,
    object: kind === 'chat' ? 'chat.completion' : 'text_completion',
    created: plan.created,
    model: plan.model,
    choices,
    usage,
  }
  if (plan.remoteDecode) {
    const { host, port } = ctx.address()
    response.kv_transfer_params = {
      do_remote_decode: false,
      do_remote_prefill: true,
      remote_block_ids: sequences[0]?.blockIds ?? [],
      remote_engine_id: `maitred-sim-${port}`,
      remote_host: host,
      remote_port: port,
      tp_size: 1,
    }
  }
  const json = JSON.stringify(response)
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) })
  res.end(json)
}

/** Echo mode and stop strings can make an output longer than max tokens: cut it there, finishing with `length`. */
function capOutput(out: GeneratedOutput, maxTokens: number): GeneratedOutput {
  if (out.tokenIds.length <= maxTokens) return out
  return { tokenIds: out.tokenIds.slice(0, maxTokens), pieces: out.pieces.slice(0, maxTokens), finishReason: 'length', stopReason: null }
}

function messageText(content: ChatRequest['messages'][number]['content']): string {
  if (content == null) return ''
  if (typeof content === 'string') return content
  return content.flatMap((part) => (part.type === 'text' && part.text !== undefined ? [part.text] : [])).join('\n')
}

function chatPrompt(tokenizer: SimTokenizer, body: ChatRequest): Prompt {
  const messages: ChatMessage[] = body.messages.map((m) => ({ ...m, content: messageText(m.content) }))
  const text = tokenizer.applyChatTemplate(messages, {
    addGenerationPrompt: body.add_generation_prompt ?? true,
    tools: body.tools ?? undefined,
    kwargs: body.chat_template_kwargs ?? undefined,
  })
  return { tokenIds: tokenizer.encode(text), text }
}

function lastMessageText(body: ChatRequest): string {
  return messageText(body.messages[body.messages.length - 1]?.content)
}

function completionPrompts(tokenizer: SimTokenizer, body: CompletionRequest): Prompt[] {
  const p = body.prompt
  if (typeof p === 'string') return [{ tokenIds: tokenizer.encode(p), text: p }]
  if (p.length > 0 && typeof p[0] === 'number') {
    const ids = p as number[]
    return [{ tokenIds: ids, text: tokenizer.decode(ids) }]
  }
  return (p as (string | number[])[]).map((x) =>
    typeof x === 'string' ? { tokenIds: tokenizer.encode(x), text: x } : { tokenIds: x, text: tokenizer.decode(x) },
  )
}

type Usage = { prompt_tokens: number; total_tokens: number; completion_tokens: number; prompt_tokens_details?: { cached_tokens: number } }

/** Server-sent events in vLLM's framing: `data: {chunk}\n\n` per token, a usage chunk if asked, then `data: [DONE]`. */
class SseWriter {
  private readonly object: string
  private readonly base: string

  constructor(
    private readonly res: ServerResponse,
    private readonly kind: Kind,
    id: string,
    created: number,
    model: string,
    /** Set when continuous_usage_stats is on: the usage goes on every chunk. */
    private readonly continuousPromptTokens: number | null,
  ) {
    this.object = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion'
    this.base = `{"id":${JSON.stringify(id)},"object":"${this.object}","created":${created},"model":${JSON.stringify(model)}`
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' })
    res.flushHeaders()
  }

  /** The first chunk of a choice: the assistant role (chat) or the echoed prompt (completions). */
  start(seq: Sequence): void {
    if (this.kind === 'chat') this.write(seq, `"delta":{"role":"assistant","content":""}`, null, null, 0)
    else if (seq.echoText !== null) this.write(seq, `"text":${JSON.stringify(seq.echoText)}`, null, null, 0)
  }

  delta(seq: Sequence, text: string, finishReason: string | null, stopReason: string | null): void {
    const content = this.kind === 'chat' ? `"delta":{"content":${JSON.stringify(text)}}` : `"text":${JSON.stringify(text)}`
    this.write(seq, content, finishReason, stopReason, seq.emitted)
  }

  usage(usage: Usage): void {
    this.send(`data: ${this.base},"choices":[],"usage":${JSON.stringify(usage)}}\n\n`)
  }

  done(): void {
    this.res.end('data: [DONE]\n\n')
  }

  private write(seq: Sequence, content: string, finishReason: string | null, stopReason: string | null, completionTokens: number): void {
    const stop = this.kind === 'chat' && finishReason === null ? '' : `,"stop_reason":${JSON.stringify(stopReason)}`
    const choice = `{"index":${seq.index},${content},"logprobs":null,"finish_reason":${JSON.stringify(finishReason)}${stop}}`
    const usage =
      this.continuousPromptTokens === null
        ? ''
        : `,"usage":${JSON.stringify({ prompt_tokens: this.continuousPromptTokens, total_tokens: this.continuousPromptTokens + completionTokens, completion_tokens: completionTokens })}`
    this.send(`data: ${this.base},"choices":[${choice}]${usage}}\n\n`)
  }

  /**
   * Sends one event at once, in the engine's delivery order. res.write costs a cork, four buffered writes and a writev per
   * chunk (≈ 9 µs, a third of a token's cost under load), so once the headers are out on the response's own socket the
   * chunk is framed here and goes out as one write; res.end still ends the chunked body. Otherwise (a pipelined response
   * waiting for its socket, or no chunked encoding) res.write frames it, uncorked: Node would hold it until the next tick,
   * behind every other chunk of the engine step.
   */
  private send(event: string): void {
    const socket = this.res.socket
    if (this.res.chunkedEncoding && this.res.headersSent && socket !== null && socket.writable) {
      socket.write(`${Buffer.byteLength(event).toString(16)}\r\n${event}\r\n`)
      return
    }
    this.res.write(event)
    socket?.uncork()
  }
}
