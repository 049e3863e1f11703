import { describe, expect, it } from 'vitest'
import { ResponseWatch } from './response-usage.js'

const usage = { prompt_tokens: 12, total_tokens: 15, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 8 } }

describe('ResponseWatch', () => {
  it('reads usage from the end of a JSON response', () => {
    const w = new ResponseWatch()
    const body = Buffer.from(JSON.stringify({ id: 'x', choices: [{ message: { content: 'hi "usage"' } }], usage }))
    w.onChunk(body.subarray(0, 20))
    w.onChunk(body.subarray(20))
    expect(w.streamed).toBe(false)
    expect(w.usage()).toEqual({ promptTokens: 12, completionTokens: 3, totalTokens: 15, cachedTokens: 8 })
  })

  it('reads usage from the last event of a stream, split across chunks, and marks it streamed', () => {
    const w = new ResponseWatch()
    w.onChunk(Buffer.from('data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n'))
    const event = Buffer.from(`data: ${JSON.stringify({ choices: [], usage: { ...usage, prompt_tokens_details: undefined } })}\n\n`)
    w.onChunk(event.subarray(0, 30))
    w.onChunk(Buffer.concat([event.subarray(30), Buffer.from('data: [DONE]\n\n')]))
    expect(w.streamed).toBe(true)
    expect(w.firstByteAt).toBeGreaterThan(0)
    expect(w.usage()).toEqual({ promptTokens: 12, completionTokens: 3, totalTokens: 15, cachedTokens: undefined })
  })

  it('reads usage however finely the end of the body is chunked, and sums prompt and completion without total_tokens', () => {
    const w = new ResponseWatch()
    w.onChunk(Buffer.from('data: {"choices":[{"delta":{"content":"x"}}]}\n\n'))
    const tail = Buffer.from(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 5 } })}\n\ndata: [DONE]\n\n`)
    for (let i = 0; i < tail.length; i += 3) w.onChunk(tail.subarray(i, i + 3))
    expect(w.usage()).toEqual({ promptTokens: 4, completionTokens: 5, totalTokens: 9, cachedTokens: undefined })
  })

  it('finds none in a stream without include_usage or in an error', () => {
    const w = new ResponseWatch()
    w.onChunk(Buffer.from('data: {"choices":[{"delta":{"content":"x"}}]}\n\ndata: [DONE]\n\n'))
    expect(w.usage()).toBeUndefined()
    expect(new ResponseWatch().usage()).toBeUndefined()
  })
})
