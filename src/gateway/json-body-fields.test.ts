import { describe, expect, it } from 'vitest'
import { withTopLevelFields } from './json-body-fields.js'

const edit = (text: string, fields: Record<string, unknown>) => {
  const parsed = JSON.parse(text) as Record<string, unknown>
  const out = withTopLevelFields(Buffer.from(text), parsed, fields)
  return { out: out.toString(), parsed }
}

describe('withTopLevelFields', () => {
  it('splices new fields before the closing brace, keeping the original bytes', () => {
    const text = '{"model":"m", "prompt":"a \\"quoted\\" }",\n "stream":true}\n  '
    const { out, parsed } = edit(text, { stream_options: { include_usage: true }, max_tokens: 7 })
    expect(out.startsWith('{"model":"m", "prompt":"a \\"quoted\\" }",\n "stream":true')).toBe(true)
    expect(JSON.parse(out)).toEqual({ model: 'm', prompt: 'a "quoted" }', stream: true, stream_options: { include_usage: true }, max_tokens: 7 })
    expect(parsed.max_tokens).toBe(7)
  })

  it('adds to an empty object without a leading comma', () => {
    expect(JSON.parse(edit('{ }', { max_tokens: 3 }).out)).toEqual({ max_tokens: 3 })
  })

  it('replaces a field the body already has (no duplicate keys)', () => {
    const { out } = edit('{"stream":true,"stream_options":{"continuous_usage_stats":true}}', { stream_options: { continuous_usage_stats: true, include_usage: true } })
    expect(out).toBe('{"stream":true,"stream_options":{"continuous_usage_stats":true,"include_usage":true}}')
  })
})
