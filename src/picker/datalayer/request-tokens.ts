import { loadTokenizer, type ChatMessage, type SimTokenizer } from '../../sim/tokenizer.js'

// A request's prompt as the engine tokenizes it (the chat template rendered, then encoded by the model's tokenizer), for
// precise prefix matching. The tokenizer is loaded in the background on first use of a model; until then the caller falls
// back to the approximate index. Tokenizing a long prompt on every pick would dominate the picker's time, so text is
// encoded in chunks cut where the BPE pre-tokenizer always splits, and each chunk's ids are cached: requests sharing a
// long prefix encode only what follows it.

/** Chunks are at least this many characters, cut at the next safe boundary. */
const CHUNK_CHARS = 512
const CACHE_ENTRIES = 4096

export class RequestTokens {
  readonly #tokenizers = new Map<string, SimTokenizer | null>()
  readonly #chunks = new Map<string, readonly number[]>()

  /** The prompt's token ids, or undefined while the model's tokenizer loads or when the body has no prompt. */
  tokenIds(model: string, body: Readonly<Record<string, unknown>>): number[] | undefined {
    const tokenizer = this.#tokenizer(model)
    if (!tokenizer) return undefined
    if (Array.isArray(body.messages)) return this.#encode(tokenizer, tokenizer.applyChatTemplate(chatMessages(body.messages), chatOptions(body)))
    const prompt = body.prompt
    if (typeof prompt === 'string') return this.#encode(tokenizer, prompt)
    if (Array.isArray(prompt) && prompt.every((t) => typeof t === 'number')) return prompt as number[]
    // A batch of prompts goes to one endpoint: its first prompt decides.
    if (Array.isArray(prompt) && typeof prompt[0] === 'string') return this.#encode(tokenizer, prompt[0])
    return undefined
  }

  #tokenizer(model: string): SimTokenizer | undefined {
    const known = this.#tokenizers.get(model)
    if (known !== undefined) return known ?? undefined
    this.#tokenizers.set(model, null)
    void loadTokenizer(model).then((t) => this.#tokenizers.set(model, t))
    return undefined
  }

  #encode(tokenizer: SimTokenizer, text: string): number[] {
    // The estimator cuts every 4 characters from the start, so its ids depend on absolute offsets: no chunking.
    if (tokenizer.name !== 'qwen3' || text.length < 2 * CHUNK_CHARS) return tokenizer.encode(text)
    const ids: number[] = []
    let start = 0
    while (start < text.length) {
      const end = nextBoundary(text, start + CHUNK_CHARS)
      const chunk = text.slice(start, end)
      let chunkIds = this.#chunks.get(chunk)
      if (chunkIds === undefined) {
        chunkIds = tokenizer.encode(chunk)
        if (this.#chunks.size >= CACHE_ENTRIES) this.#chunks.delete(this.#chunks.keys().next().value as string)
        this.#chunks.set(chunk, chunkIds)
      }
      for (const id of chunkIds) ids.push(id)
      start = end
    }
    return ids
  }
}

const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122)

/**
 * The first index ≥ `from` of a space between two ASCII letters, or the text's end. The GPT-4-style pre-tokenizer of
 * Qwen3 always ends a letter run before a space and starts the next piece with it (" word"), and no added token holds a
 * space, so the ids of the text on each side do not depend on the other.
 */
export function nextBoundary(text: string, from: number): number {
  for (let i = Math.max(1, from); i < text.length - 1; i++) {
    if (text.charCodeAt(i) === 32 && isLetter(text.charCodeAt(i - 1)) && isLetter(text.charCodeAt(i + 1))) return i
  }
  return text.length
}

/** As the engine renders them: a content-part list is its text parts joined by newlines. */
function chatMessages(messages: unknown[]): ChatMessage[] {
  return messages.map((m) => {
    const message = (m ?? {}) as Record<string, unknown>
    const content = message.content
    const text =
      typeof content === 'string'
        ? content
        : Array.isArray(content)
          ? content.flatMap((p: { type?: unknown; text?: unknown }) => (p?.type === 'text' && typeof p.text === 'string' ? [p.text] : [])).join('\n')
          : ''
    return { ...message, role: String(message.role ?? ''), content: text }
  })
}

function chatOptions(body: Readonly<Record<string, unknown>>) {
  return {
    addGenerationPrompt: typeof body.add_generation_prompt === 'boolean' ? body.add_generation_prompt : true,
    tools: Array.isArray(body.tools) ? body.tools : undefined,
    kwargs: typeof body.chat_template_kwargs === 'object' && body.chat_template_kwargs !== null ? (body.chat_template_kwargs as Record<string, unknown>) : undefined,
  }
}
