/**
 * The request body with top-level fields added (the admission stage's `max_tokens` cap and `stream_options`). A field the
 * body does not have yet is spliced in before its closing brace, so a long prompt is not serialised again per request; a
 * field it has is replaced by serialising the whole (parsed) body. `parsed` gets the fields too, for the picker.
 */
export function withTopLevelFields(raw: Buffer, parsed: Record<string, unknown>, fields: Readonly<Record<string, unknown>>): Buffer {
  let added = ''
  let present = false
  const empty = isEmpty(parsed)
  for (const name in fields) {
    if (Object.hasOwn(parsed, name)) present = true
    const value = fields[name]
    added += `,${JSON.stringify(name)}:${JSON.stringify(value)}`
    parsed[name] = value
  }
  const close = lastClosingBrace(raw)
  if (present || close === -1) return Buffer.from(JSON.stringify(parsed))
  // One buffer, written in place: the body's head, the new fields, its closing brace (and any whitespace after it).
  const text = empty ? added.slice(1) : added
  const size = Buffer.byteLength(text)
  const out = Buffer.allocUnsafe(raw.length + size)
  raw.copy(out, 0, 0, close)
  out.write(text, close)
  raw.copy(out, close + size, close)
  return out
}

function isEmpty(object: object): boolean {
  for (const _ in object) return false
  return true
}

/** JSON allows whitespace after the top-level value: the object's `}` is the last byte that is not space. */
function lastClosingBrace(raw: Buffer): number {
  let i = raw.length - 1
  while (i >= 0 && (raw[i] === 0x20 || raw[i] === 0x0a || raw[i] === 0x0d || raw[i] === 0x09)) i--
  return i >= 0 && raw[i] === 0x7d ? i : -1
}
