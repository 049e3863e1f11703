import type { ResponseTap } from './admission.js'

const EVENT_END = Buffer.from('\n\n')
const USAGE = Buffer.from('"usage"')

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
    // Most chunks are whole token events without usage: passed as they are.
    if (!this.#pending && chunk.indexOf(USAGE) === -1 && endsWithEventEnd(chunk)) return chunk
    const data = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk
    let start = 0
    let out: Buffer[] | undefined
    let kept = 0
    for (let end = data.indexOf(EVENT_END); end !== -1; end = data.indexOf(EVENT_END, start)) {
      const eventEnd = end + 2
      if (data.subarray(start, eventEnd).includes(USAGE) && isUsageOnly(data.subarray(start, end))) {
        ;(out ??= []).push(data.subarray(kept, start))
        kept = eventEnd
      }
      start = eventEnd
    }
    this.#pending = start < data.length ? Buffer.from(data.subarray(start)) : undefined
    const passed = data.subarray(kept, start)
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
 * A `data: {...}` event that carries usage and no choices. Read from the raw text, not parsed: a JSON string cannot hold an
 * unescaped quote, so these patterns only match keys and values (one such event per stream).
 */
const NO_CHOICES = /"choices"\s*:\s*\[\s*\]/
const SOME_USAGE = /"usage"\s*:\s*\{/

function isUsageOnly(event: Buffer): boolean {
  const text = event.toString('latin1')
  return text.trimStart().startsWith('data:') && NO_CHOICES.test(text) && SOME_USAGE.test(text)
}
