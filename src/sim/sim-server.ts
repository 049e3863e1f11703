import type { IncomingMessage, ServerResponse } from 'node:http'
import { handleGenerate, type SimContext } from './generate-handler.js'
import { OpenAIError, modelNotFound, validationError } from './openai-error.js'
import { detokenizeRequestSchema, parseBody, tokenizeRequestSchema } from './request-schemas.js'

// The HTTP surface of the simulator: vLLM's OpenAI-compatible routes plus its utility routes. Every error is vLLM's JSON.

/** Bodies above this are refused (vLLM has no small limit; this only protects the process). */
const MAX_BODY_BYTES = 64 * 1024 * 1024

export function createSimRequestHandler(ctx: SimContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(ctx, req, res).catch((err: unknown) => sendError(res, err))
  }
}

async function route(ctx: SimContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/'
  const method = req.method ?? 'GET'
  const is = (m: string | string[], p: string) => path === p && (Array.isArray(m) ? m.includes(method) : m === method)

  if (is('GET', '/health') || is(['GET', 'POST'], '/ping')) return sendEmpty(res)
  if (is('GET', '/version')) return sendJson(res, 200, { version: ctx.options.version })
  if (is('GET', '/v1/models')) return sendJson(res, 200, modelList(ctx))
  if (is('GET', '/metrics')) {
    const text = await ctx.metrics.registry.metrics()
    res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType })
    res.end(text)
    return
  }
  if (is('POST', '/v1/chat/completions')) return handleGenerate(ctx, 'chat', await readJson(ctx, req), req, res)
  if (is('POST', '/v1/completions')) return handleGenerate(ctx, 'completion', await readJson(ctx, req), req, res)
  if (is('POST', '/tokenize')) return sendJson(res, 200, tokenize(ctx, await readJson(ctx, req)))
  if (is('POST', '/detokenize')) return sendJson(res, 200, detokenize(ctx, await readJson(ctx, req)))
  if (is('POST', '/reset_prefix_cache')) {
    // vLLM's dev-mode route: drops every cached block (an AllBlocksCleared event), refused while requests hold blocks.
    if (!ctx.engine.kv.resetPrefixCache()) throw new OpenAIError(409, 'The prefix cache is in use by running requests.', 'Conflict')
    return sendEmpty(res)
  }
  const known = ['/health', '/ping', '/version', '/v1/models', '/metrics', '/v1/chat/completions', '/v1/completions', '/tokenize', '/detokenize', '/reset_prefix_cache']
  if (known.includes(path)) throw new OpenAIError(405, 'Method Not Allowed', 'MethodNotAllowed')
  throw new OpenAIError(404, 'Not Found', 'NotFoundError')
}

function modelList(ctx: SimContext) {
  const created = Math.floor(Date.now() / 1000)
  const base = ctx.servedModelNames.map((id) => ({
    id,
    object: 'model',
    created,
    owned_by: 'vllm',
    root: ctx.options.model,
    parent: null,
    max_model_len: ctx.options.maxModelLen,
    permission: [],
  }))
  const loras = ctx.options.loraModules.map((l) => ({
    id: l.name,
    object: 'model',
    created,
    owned_by: 'vllm',
    root: l.path,
    parent: l.baseModelName ?? ctx.servedModelNames[0] ?? ctx.options.model,
    max_model_len: null,
    permission: [],
  }))
  return { object: 'list', data: [...base, ...loras] }
}

function checkModel(ctx: SimContext, model: string | null | undefined): void {
  if (model != null && !ctx.servedModelNames.includes(model) && !ctx.loraNames.has(model)) throw modelNotFound(model)
}

function tokenize(ctx: SimContext, raw: unknown) {
  const body = parseBody(tokenizeRequestSchema, raw)
  checkModel(ctx, body.model)
  let text: string
  if (body.messages !== undefined) {
    const messages = body.messages.map((m) => ({ ...m, content: typeof m.content === 'string' ? m.content : '' }))
    text = ctx.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: body.add_generation_prompt ?? true })
  } else if (body.prompt !== undefined) {
    text = body.prompt
  } else {
    throw validationError('Either `prompt` or `messages` is required.', 'prompt')
  }
  const tokens = ctx.tokenizer.encode(text)
  const result: Record<string, unknown> = { count: tokens.length, max_model_len: ctx.options.maxModelLen, tokens }
  if (body.return_token_strs === true) result.token_strs = tokens.map((t) => ctx.tokenizer.decode([t]))
  return result
}

function detokenize(ctx: SimContext, raw: unknown) {
  const body = parseBody(detokenizeRequestSchema, raw)
  checkModel(ctx, body.model)
  return { prompt: ctx.tokenizer.decode(body.tokens) }
}

async function readJson(ctx: SimContext, req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) throw new OpenAIError(413, `Request body larger than ${MAX_BODY_BYTES} bytes`, 'BadRequestError')
    chunks.push(chunk)
  }
  // The injected bug 1: the body is gone, and validation sees an empty object (pydantic's "Field required").
  if (ctx.options.dropRequestBody) return {}
  const text = Buffer.concat(chunks).toString('utf8')
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw validationError(`Invalid JSON body: ${(err as Error).message}`)
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) })
  res.end(json)
}

function sendEmpty(res: ServerResponse): void {
  res.writeHead(200, { 'content-length': 0 })
  res.end()
}

function sendError(res: ServerResponse, err: unknown): void {
  const error = err instanceof OpenAIError ? err : new OpenAIError(500, `Internal error: ${(err as Error)?.message ?? String(err)}`)
  if (res.destroyed) return
  if (res.headersSent) {
    // Mid-stream: vLLM sends the error as one SSE frame, then [DONE].
    res.end(`data: ${JSON.stringify(error.toJSON())}\n\ndata: [DONE]\n\n`)
    return
  }
  sendJson(res, error.status, error.toJSON())
}
