/**
 * The request body with top-level fields added (the admission stage's `max_tokens` cap and `stream_options`). A field the
 * body does not have yet is spliced in before its closing brace, so a long prompt is not serialised again per request; a
 * field it has is replaced by serialising the whole (parsed) body. `parsed` gets the fields too, for the picker.
 */
export function withTopLevelFields(raw: Buffer, parsed: Record<string, unknown>, fields: Readonly<Record<string, unknown>>): Buffer {
  const names = Object.keys(fields)
  const present = names.some((name) => Object.hasOwn(parsed, name))
  const empty = Object.keys(parsed).length === 0
  Object.assign(parsed, fields)
  const close = lastClosingBrace(raw)
  if (present || close === -1) return Buffer.from(JSON.stringify(parsed))
  const added = names.map((name) => `${JSON.stringify(name)}:${JSON.stringify(fields[name])}`).join(',')
  return Buffer.concat([raw.subarray(0, close), Buffer.from(empty ? added : `,${added}`), raw.subarray(close)])
}

/** JSON allows whitespace after the top-level value: the object's `}` is the last byte that is not space. */
function lastClosingBrace(raw: Buffer): number {
  let i = raw.length - 1
  while (i >= 0 && (raw[i] === 0x20 || raw[i] === 0x0a || raw[i] === 0x0d || raw[i] === 0x09)) i--
  return i >= 0 && raw[i] === 0x7d ? i : -1
}
