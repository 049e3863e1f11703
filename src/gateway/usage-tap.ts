import type { ResponseTap } from './admission.js'

const EVENT_END = Buffer.from('\n\n')
const USAGE = Buffer.from('"usage"')
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
    if (!this.#pending && endsWithEventEnd(chunk)) {
      // Most chunks are whole token events without usage: passed as they are. The engines send the usage event as a
      // chunk of its own too: dropped whole, nothing cut or copied.
      if (chunk.indexOf(USAGE) === -1) return chunk
      if (chunk.indexOf(EVENT_END) === chunk.length - 2 && isUsageOnly(chunk)) return NOTHING
    }
    const data = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk
    // Whole events go on; what follows the last one waits for the next chunk. Only the events that name "usage" are read.
    const last = data.lastIndexOf(EVENT_END)
    const whole = last === -1 ? 0 : last + 2
    let out: Buffer[] | undefined
    let kept = 0
    for (let at = data.indexOf(USAGE); at !== -1 && at < whole; ) {
      const before = data.lastIndexOf(EVENT_END, at)
      const start = before === -1 ? 0 : before + 2
      const end = data.indexOf(EVENT_END, at)
      if (isUsageOnly(data.subarray(start, end))) {
        ;(out ??= []).push(data.subarray(kept, start))
        kept = end + 2
      }
      at = data.indexOf(USAGE, end + 2)
    }
    this.#pending = whole < data.length ? Buffer.from(data.subarray(whole)) : undefined
    const passed = data.subarray(kept, whole)
    if (!out) return passed
    out.push(passed)
    return Buffer.concat(out)
  }

  end(): Buffer | undefined {
    const rest = this.#pending
    this.#pending = undefined
    return rest
  }
}

const endsWithEventEnd = (chunk: Buffer) => chunk.length >= 2 && chunk[chunk.length - 1] === 0x0a && chunk[chunk.length - 2] === 0x0a

/**
 * A `data: {...}` event that carries usage and no choices. Read from the raw bytes, not parsed: a JSON string cannot hold
 * an unescaped quote, so these patterns only match keys and values (one such event per stream). Engines write compact
 * JSON, which a byte search recognises; other spacing goes through the patterns.
 */
const DATA = Buffer.from('data:')
const COMPACT_NO_CHOICES = Buffer.from('"choices":[]')
const COMPACT_USAGE = Buffer.from('"usage":{')
const NO_CHOICES = /"choices"\s*:\s*\[\s*\]/
const SOME_USAGE = /"usage"\s*:\s*\{/

function isUsageOnly(event: Buffer): boolean {
  if (event.indexOf(DATA) === 0 && event.includes(COMPACT_NO_CHOICES) && event.includes(COMPACT_USAGE)) return true
  const text = event.toString('latin1')
  return text.trimStart().startsWith('data:') && NO_CHOICES.test(text) && SOME_USAGE.test(text)
}
