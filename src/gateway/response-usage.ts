/** Token counts from an OpenAI response's `usage` object. */
export interface ResponseUsage {
  promptTokens: number
  completionTokens: number
  /** `usage.prompt_tokens_details.cached_tokens`, when the server reports it. */
  cachedTokens: number | undefined
}

/** How far back from the end of a body `usage` is looked for: it is the last field (JSON) or the last event before [DONE] (SSE). */
const TAIL_BYTES = 2048

/**
 * Watches a response body go by for its timing and its `usage`, without buffering it: only the last two chunks are kept
 * (references, not copies), because `usage` comes last — the end of a JSON response, or the final SSE event before
 * `data: [DONE]` when the client asked for `stream_options.include_usage`.
 */
export class ResponseWatch {
  /** performance.now() at the first body byte, 0 before it. */
  firstByteAt = 0
  /** The body is Server-Sent Events (its first bytes are `data:`). */
  streamed = false
  #previous: Buffer | undefined
  #last: Buffer | undefined

  onChunk(chunk: Buffer): void {
    if (this.firstByteAt === 0) {
      this.firstByteAt = performance.now()
      this.streamed = chunk.length >= 5 && chunk.toString('latin1', 0, 5) === 'data:'
    }
    this.#previous = this.#last
    this.#last = chunk
  }

  /** The response's usage, or undefined when it carries none (a streamed response without include_usage, an error). */
  usage(): ResponseUsage | undefined {
    const last = this.#last
    if (!last) return undefined
    const both = this.#previous ? Buffer.concat([this.#previous.subarray(-TAIL_BYTES), last.subarray(-TAIL_BYTES)]) : last.subarray(-TAIL_BYTES)
    const text = both.toString('utf8')
    const at = text.lastIndexOf('"usage"')
    if (at < 0) return undefined
    const usage = text.slice(at)
    const prompt = numberField(usage, 'prompt_tokens')
    const completion = numberField(usage, 'completion_tokens')
    if (prompt === undefined || completion === undefined) return undefined
    return { promptTokens: prompt, completionTokens: completion, cachedTokens: numberField(usage, 'cached_tokens') }
  }
}

function numberField(text: string, name: string): number | undefined {
  const m = new RegExp(`"${name}"\\s*:\\s*(\\d+)`).exec(text)
  return m ? Number(m[1]) : undefined
}
