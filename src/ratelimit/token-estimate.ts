/**
 * An upper bound of a request's prompt tokens, from its parsed body, without tokenizing: a byte-level BPE token covers at
 * least one byte, so the UTF-8 bytes of the text are at least its tokens; the chat template adds a few tokens per message
 * (Qwen3's `<|im_start|>role\n…<|im_end|>\n` is 5) and a generation prompt. Over-estimating only holds back tokens until
 * the real usage settles the reservation.
 */
export function promptTokenBound(body: Record<string, unknown>): number {
  const PER_MESSAGE = 8
  const FIXED = 16
  let bytes = 0
  const messages = body.messages
  if (Array.isArray(messages))
    for (const m of messages) {
      bytes += PER_MESSAGE
      if (typeof m !== 'object' || m === null) continue
      const msg = m as Record<string, unknown>
      bytes += textBytes(msg.content)
      if (msg.tool_calls !== undefined) bytes += textBytes(msg.tool_calls)
      if (typeof msg.name === 'string') bytes += textBytes(msg.name)
    }
  bytes += textBytes(body.prompt)
  if (body.tools !== undefined) bytes += textBytes(body.tools)
  return bytes + FIXED
}

/** UTF-8 bytes of a message's content (text, parts, or any other JSON). A function of its own: this runs per request. */
function textBytes(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v)
  if (Array.isArray(v)) {
    let bytes = 0
    for (const part of v) bytes += textBytes(typeof part === 'object' && part !== null ? ((part as { text?: unknown }).text ?? part) : part)
    return bytes
  }
  if (typeof v === 'object' && v !== null) return Buffer.byteLength(JSON.stringify(v))
  return typeof v === 'number' ? 8 : 0
}

/** The completion tokens the client capped, if it did. */
export function requestedMaxTokens(body: Record<string, unknown>): number | undefined {
  const v = body.max_completion_tokens ?? body.max_tokens
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined
}
