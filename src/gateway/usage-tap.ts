import type { ResponseTap } from './admission.js'

export interface TokenUsage {
  promptTokens: number
  completionTokens: number
  totalTokens: number
}

const EVENT_END = Buffer.from('\n\n')
const USAGE = Buffer.from('"usage"')
/** A non-streamed body past this is not parsed for usage (its reservation then stands). */
const MAX_BODY_BYTES = 8 * 1024 * 1024

/**
 * Reads OpenAI `usage` from a 2xx response on its way to the client. Streamed (`text/event-stream`) bodies are passed on
 * event by event; when the gateway itself asked for usage (`stream_options.include_usage`), the usage-only event
 * (`"choices":[]`) is kept from the client, who did not ask for it. Non-streamed bodies pass unchanged and are parsed at
 * the end.
 */
export class UsageTap implements ResponseTap {
  usage: TokenUsage | undefined
  status = 0
  #sse = false
  #active = false
  #pending: Buffer | undefined
  #body: Buffer[] = []
  #bodyBytes = 0

  constructor(private readonly stripUsageEvent: boolean) {}

  onHeaders(status: number, headers: Record<string, string | string[]>): void {
    this.status = status
    this.#active = status >= 200 && status < 300
    const type = headers['content-type']
    this.#sse = typeof type === 'string' && type.startsWith('text/event-stream')
    if (this.#active && this.#sse && this.stripUsageEvent) delete headers['content-length']
  }

  transform(chunk: Buffer): Buffer {
    if (!this.#active) return chunk
    if (!this.#sse) {
      this.#bodyBytes += chunk.length
      if (this.#bodyBytes <= MAX_BODY_BYTES) this.#body.push(chunk)
      return chunk
    }
    const data = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk
    let start = 0
    let out: Buffer[] | undefined
    let kept = 0
    for (let end = data.indexOf(EVENT_END); end !== -1; end = data.indexOf(EVENT_END, start)) {
      const eventEnd = end + 2
      if (data.subarray(start, eventEnd).includes(USAGE) && this.#readUsageEvent(data.subarray(start, end)) && this.stripUsageEvent) {
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
    if (!this.#active) return undefined
    if (!this.#sse) {
      if (this.#bodyBytes > 0 && this.#bodyBytes <= MAX_BODY_BYTES) this.#read(Buffer.concat(this.#body).toString('utf8'))
      this.#body = []
      return undefined
    }
    const rest = this.#pending
    this.#pending = undefined
    return rest
  }

  /** Reads a `data: {...}` event's usage; true when the event carries only usage (no choices). */
  #readUsageEvent(event: Buffer): boolean {
    const text = event.toString('utf8').trim()
    if (!text.startsWith('data:')) return false
    const parsed = this.#read(text.slice(5).trim())
    return parsed !== undefined && Array.isArray(parsed.choices) && parsed.choices.length === 0
  }

  #read(text: string): { choices?: unknown } | undefined {
    let parsed: { usage?: Record<string, unknown> | null; choices?: unknown }
    try {
      parsed = JSON.parse(text) as typeof parsed
    } catch {
      return undefined
    }
    const u = parsed?.usage
    if (typeof u !== 'object' || u === null) return undefined
    const prompt = Number(u.prompt_tokens ?? 0)
    const completion = Number(u.completion_tokens ?? 0)
    const total = typeof u.total_tokens === 'number' ? u.total_tokens : prompt + completion
    this.usage = { promptTokens: prompt, completionTokens: completion, totalTokens: total }
    return parsed
  }
}
