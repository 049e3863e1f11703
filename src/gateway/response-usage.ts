/** Token counts from an OpenAI response's `usage` object. */
export interface ResponseUsage {
  promptTokens: number
  completionTokens: number
  /** `usage.total_tokens`, or prompt + completion when the server leaves it out. */
  totalTokens: number
  /** `usage.prompt_tokens_details.cached_tokens`, when the server reports it. */
  cachedTokens: number | undefined
}

/** How far back from the end of a body `usage` is looked for: it is the last field (JSON) or the last event before [DONE] (SSE). */
const TAIL_BYTES = 4096
const USAGE = Buffer.from('"usage"')
const FIELDS = {
  prompt: /"prompt_tokens"\s*:\s*(\d+)/,
  completion: /"completion_tokens"\s*:\s*(\d+)/,
  total: /"total_tokens"\s*:\s*(\d+)/,
  cached: /"cached_tokens"\s*:\s*(\d+)/,
}

/**
 * Watches a response body go by for its timing and its `usage`, without buffering it: only the chunks that hold its last
 * TAIL_BYTES are kept (references, not copies), because `usage` comes last — the end of a JSON response, or the final SSE
 * event before `data: [DONE]` when the client (or the gateway, for token limits) asked for `stream_options.include_usage`.
 * The one usage parser of the response path: the access log, the picker's completion and token-limit settlement all read it.
 */
export class ResponseWatch {
  /** performance.now() at the first body byte, 0 before it. */
  firstByteAt = 0
  /** The body is Server-Sent Events (its first bytes are `data:`). */
  streamed = false
  /** The newest chunks, oldest first; together at most TAIL_BYTES plus the oldest one's length. */
  #tail: Buffer[] = []
  #tailBytes = 0
  /** usage() as last computed, until the next chunk. */
  #usage: ResponseUsage | null | undefined

  onChunk(chunk: Buffer): void {
    if (this.firstByteAt === 0) {
      this.firstByteAt = performance.now()
      this.streamed = chunk.length >= 5 && chunk.toString('latin1', 0, 5) === 'data:'
    }
    const tail = this.#tail
    tail.push(chunk)
    this.#tailBytes += chunk.length
    while (this.#tailBytes - tail[0]!.length >= TAIL_BYTES) this.#tailBytes -= tail.shift()!.length
    this.#usage = undefined
  }

  /** The response's usage, or undefined when it carries none (a streamed response without include_usage, an error). */
  usage(): ResponseUsage | undefined {
    if (this.#usage === undefined) this.#usage = this.#read() ?? null
    return this.#usage ?? undefined
  }

  #read(): ResponseUsage | undefined {
    const tail = this.#tail
    if (tail.length === 0) return undefined
    const whole = tail.length === 1 ? tail[0]! : Buffer.concat(tail)
    const bytes = whole.subarray(Math.max(0, whole.length - TAIL_BYTES))
    const at = bytes.lastIndexOf(USAGE)
    if (at < 0) return undefined
    // Only what follows the key is decoded: the counts are ASCII.
    const usage = bytes.toString('latin1', at)
    const prompt = numberField(usage, FIELDS.prompt)
    const completion = numberField(usage, FIELDS.completion)
    if (prompt === undefined || completion === undefined) return undefined
    return { promptTokens: prompt, completionTokens: completion, totalTokens: numberField(usage, FIELDS.total) ?? prompt + completion, cachedTokens: numberField(usage, FIELDS.cached) }
  }
}

function numberField(text: string, field: RegExp): number | undefined {
  const m = field.exec(text)
  return m ? Number(m[1]) : undefined
}
