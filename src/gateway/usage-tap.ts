import type { ResponseTap } from './admission.js'

/**
 * The key `"usage"` is searched for without its opening quote: a search keys on its pattern's first character, and quotes
 * are everywhere in JSON (with the quote, a search takes several times longer). A match is then checked for the quote.
 */
const USAGE_TAIL = 'usage"'
const USAGE_TAIL_BYTES = Buffer.from(USAGE_TAIL)
const QUOTE = 0x22
const NOTHING = Buffer.alloc(0)

/**
 * Keeps from the client the usage-only event (`"choices":[]`) of a 2xx stream when the gateway itself asked for it
 * (`stream_options.include_usage`, for token limits) and the client did not. Reading the usage is not its job: the
 * response's one usage parser (ResponseWatch) sees the chunks before this does. Other responses pass unchanged.
 */
export class UsageEventStrip implements ResponseTap {
  #active = false
  #pending: Buffer | undefined

  onHeaders(status: number, headers: Record<string, string | string[]>): void {
    const type = headers['content-type']
    this.#active = status >= 200 && status < 300 && typeof type === 'string' && type.startsWith('text/event-stream')
    if (this.#active) delete headers['content-length']
  }

  transform(chunk: Buffer): Buffer {
    if (!this.#active) return chunk
    // Most chunks are whole token events without usage: passed as they are, after one byte search.
    if (!this.#pending && endsWithEventEnd(chunk) && chunk.indexOf(USAGE_TAIL_BYTES) === -1) return chunk
    const data = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk
    // The rest is searched as a latin1 string (one character per byte, so indices are byte offsets): string searches stay
    // inside V8, where each Buffer search or slice is a call into C++ and costs more than the search itself.
    const text = data.toString('latin1')
    // Whole events go on; what follows the last one waits for the next chunk. Only the events that name "usage" are read.
    const last = text.lastIndexOf('\n\n')
    const whole = last === -1 ? 0 : last + 2
    let kept = 0
    let out: Buffer | undefined
    for (let at = text.indexOf(USAGE_TAIL); at !== -1 && at < whole; ) {
      if (text.charCodeAt(at - 1) !== QUOTE) {
        at = text.indexOf(USAGE_TAIL, at + 1)
        continue
      }
      const before = text.lastIndexOf('\n\n', at)
      const start = before === -1 ? 0 : before + 2
      const end = text.indexOf('\n\n', at)
      if (isUsageOnly(text, start, end, at)) {
        out = out ? Buffer.concat([out, data.subarray(kept, start)]) : data.subarray(kept, start)
        kept = end + 2
      }
      at = text.indexOf(USAGE_TAIL, end + 2)
    }
    this.#pending = whole < data.length ? Buffer.from(data.subarray(whole)) : undefined
    // The engines send the usage event as a chunk of its own: dropped whole, nothing cut or copied.
    if (kept === 0) return whole === data.length ? data : data.subarray(0, whole)
    if (kept === whole) return out!.length === 0 ? NOTHING : out!
    return out!.length === 0 ? data.subarray(kept, whole) : Buffer.concat([out!, data.subarray(kept, whole)])
  }

  end(): Buffer | undefined {
    const rest = this.#pending
    this.#pending = undefined
    return rest
  }
}

const endsWithEventEnd = (chunk: Buffer) => chunk.length >= 2 && chunk[chunk.length - 1] === 0x0a && chunk[chunk.length - 2] === 0x0a

const NO_CHOICES = /"choices"\s*:\s*\[\s*\]/
const SOME_USAGE = /"usage"\s*:\s*\{/

/**
 * Whether `text[start, end)` is a `data: {...}` event that carries usage and no choices; `usage` is where the key's
 * `usage"` is. Read from the raw characters, not parsed: a JSON string cannot hold an unescaped quote, so these patterns
 * only match keys and values (one such event per stream). Engines write compact JSON, which a plain search recognises;
 * other spacing goes through the patterns.
 */
function isUsageOnly(text: string, start: number, end: number, usage: number): boolean {
  if (text.startsWith('data:', start) && text.startsWith(':{', usage + USAGE_TAIL.length)) {
    const choices = text.indexOf('choices":[]', start)
    if (choices !== -1 && choices < end && text.charCodeAt(choices - 1) === QUOTE) return true
  }
  const event = text.slice(start, end)
  return event.trimStart().startsWith('data:') && NO_CHOICES.test(event) && SOME_USAGE.test(event)
}
