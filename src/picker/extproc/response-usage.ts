import { StringDecoder } from 'node:string_decoder'

export interface Usage {
  promptTokens?: number
  completionTokens?: number
  cachedTokens?: number
}

/** Non-streamed bodies larger than this are passed through without usage parsing rather than held in memory. */
const MAX_BUFFERED_BODY_BYTES = 8 * 1024 * 1024

/**
 * Reads OpenAI `usage` from a response body as it passes by, the way GIE's response handler does:
 * - streamed (`text/event-stream`): every `data: {...}` line carrying `"usage"` updates the counts (the last one wins, so
 *   vLLM's continuous usage stats work too); `data: [DONE]` marks completion. Usage only appears when the client asked for
 *   `stream_options.include_usage`.
 * - non-streamed: the body is buffered (up to a cap) and parsed once at the end.
 */
export class ResponseUsageReader {
  private readonly decoder = new StringDecoder('utf8')
  private pendingLine = ''
  private readonly chunks: Buffer[] = []
  private bufferedBytes = 0
  private usage: Usage = {}
  private done = false

  constructor(readonly streaming: boolean) {}

  /** True once a streamed body has sent `data: [DONE]`. */
  get sawDone(): boolean {
    return this.done
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return
    if (!this.streaming) {
      this.bufferedBytes += chunk.length
      if (this.bufferedBytes <= MAX_BUFFERED_BODY_BYTES) this.chunks.push(chunk)
      return
    }
    const lines = (this.pendingLine + this.decoder.write(chunk)).split('\n')
    this.pendingLine = lines.pop() ?? ''
    for (const line of lines) this.readLine(line)
  }

  /** Usage seen so far; for a non-streamed body, parses it (call once, at end of stream). */
  finish(): Usage {
    if (this.streaming) {
      this.readLine(this.pendingLine + this.decoder.end())
      this.pendingLine = ''
    } else if (this.bufferedBytes > 0 && this.bufferedBytes <= MAX_BUFFERED_BODY_BYTES) {
      this.readJson(Buffer.concat(this.chunks).toString('utf8'))
      this.chunks.length = 0
    }
    return this.usage
  }

  private readLine(rawLine: string): void {
    const line = rawLine.trim()
    if (!line.startsWith('data:')) return
    const payload = line.slice(5).trim()
    if (payload === '[DONE]') this.done = true
    else if (payload.includes('"usage"')) this.readJson(payload)
  }

  private readJson(text: string): void {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return
    }
    const usage = (parsed as { usage?: unknown } | null)?.usage
    if (typeof usage !== 'object' || usage === null) return
    const fields = usage as Record<string, unknown>
    const details = (fields.prompt_tokens_details ?? fields.prompt_token_details) as Record<string, unknown> | null | undefined
    this.usage = {
      promptTokens: numberOrUndefined(fields.prompt_tokens),
      completionTokens: numberOrUndefined(fields.completion_tokens),
      cachedTokens: numberOrUndefined(details?.cached_tokens),
    }
  }
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}
