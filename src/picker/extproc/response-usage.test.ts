import { describe, expect, it } from 'vitest'
import { ResponseUsageReader } from './response-usage.js'

describe('ResponseUsageReader', () => {
  it('reads the last usage line of an SSE stream split at arbitrary bytes, including inside a UTF-8 character', () => {
    const sse = Buffer.from(
      'data: {"choices":[{"delta":{"content":"héllo"}}],"usage":{"prompt_tokens":5,"completion_tokens":1}}\n\n' +
        'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":9,"prompt_tokens_details":{"cached_tokens":4}}}\n\n' +
        'data: [DONE]\n\n',
    )
    for (const step of [1, 3, 7, 64]) {
      const reader = new ResponseUsageReader(true)
      for (let offset = 0; offset < sse.length; offset += step) reader.push(sse.subarray(offset, offset + step))
      expect(reader.finish()).toEqual({ promptTokens: 5, completionTokens: 9, cachedTokens: 4 })
      expect(reader.sawDone).toBe(true)
    }
  })

  it('reports no usage for a stream without include_usage, and no [DONE] for a cut stream', () => {
    const reader = new ResponseUsageReader(true)
    reader.push(Buffer.from('data: {"choices":[{"delta":{"content":"x"}}]}\n\n'))
    expect(reader.finish()).toEqual({})
    expect(reader.sawDone).toBe(false)
  })

  it('parses a non-streamed JSON body once, at the end', () => {
    const reader = new ResponseUsageReader(false)
    const body = Buffer.from(JSON.stringify({ usage: { prompt_tokens: 12, completion_tokens: 3, prompt_token_details: { cached_tokens: 8 } } }))
    reader.push(body.subarray(0, 9))
    reader.push(body.subarray(9))
    expect(reader.finish()).toEqual({ promptTokens: 12, completionTokens: 3, cachedTokens: 8 })
  })

  it('ignores bodies that are not JSON', () => {
    const reader = new ResponseUsageReader(false)
    reader.push(Buffer.from('<html>bad gateway</html>'))
    expect(reader.finish()).toEqual({})
  })
})
