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
  const text = (v: unknown): void => {
    if (typeof v === 'string') bytes += Buffer.byteLength(v)
    else if (Array.isArray(v)) for (const part of v) text(typeof part === 'object' && part !== null ? (part as { text?: unknown }).text ?? part : part)
    else if (typeof v === 'object' && v !== null) bytes += Buffer.byteLength(JSON.stringify(v))
    else if (typeof v === 'number') bytes += 8
  }
  const messages = body.messages
  if (Array.isArray(messages))
    for (const m of messages) {
      bytes += PER_MESSAGE
      if (typeof m !== 'object' || m === null) continue
      const msg = m as Record<string, unknown>
      text(msg.content)
      if (msg.tool_calls !== undefined) text(msg.tool_calls)
      if (typeof msg.name === 'string') text(msg.name)
    }
  text(body.prompt)
  if (body.tools !== undefined) text(body.tools)
  return bytes + FIXED
}

/** The completion tokens the client capped, if it did. */
export function requestedMaxTokens(body: Record<string, unknown>): number | undefined {
  const v = body.max_completion_tokens ?? body.max_tokens
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined
}
