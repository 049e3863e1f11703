import { describe, expect, it } from 'vitest'
import { ResponseWatch } from './response-usage.js'
import { UsageEventStrip } from './usage-tap.js'

const event = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`
const delta = event({ choices: [{ index: 0, delta: { content: 'Hi' } }] })
const usage = event({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 } })

describe('UsageEventStrip', () => {
  it('keeps the usage event the gateway asked for from the client, across any chunking, while the watch reads its usage', () => {
    const whole = Buffer.from(delta + usage + 'data: [DONE]\n\n')
    for (let cut = 1; cut < whole.length; cut += 7) {
      const strip = new UsageEventStrip()
      const watch = new ResponseWatch()
      const headers: Record<string, string> = { 'content-type': 'text/event-stream', 'content-length': String(whole.length) }
      strip.onHeaders(200, headers)
      expect(headers['content-length']).toBeUndefined()
      const parts = [whole.subarray(0, cut), whole.subarray(cut)]
      const out = Buffer.concat(parts.map((p) => (watch.onChunk(p), strip.transform(p))).concat(strip.end() ?? Buffer.alloc(0))).toString()
      expect(out).toBe(delta + 'data: [DONE]\n\n')
      expect(watch.usage()).toMatchObject({ promptTokens: 9, completionTokens: 3, totalTokens: 12 })
    }
  })

  it('drops the usage event when every chunk is one whole event (the engines\' usual chunking)', () => {
    const strip = new UsageEventStrip()
    strip.onHeaders(200, { 'content-type': 'text/event-stream' })
    const chunks = [delta, delta, usage, 'data: [DONE]\n\n'].map((c) => Buffer.from(c))
    const out = chunks.map((c) => strip.transform(c))
    expect(out[0]).toBe(chunks[0])
    expect(out[2]).toHaveLength(0)
    expect(Buffer.concat([...out, strip.end() ?? Buffer.alloc(0)]).toString()).toBe(delta + delta + 'data: [DONE]\n\n')
  })

  it('reads only the events that name usage: chunks with "usage":null pass, spaced JSON is still recognised', () => {
    const nullUsage = event({ choices: [{ index: 0, delta: { content: 'Hi' } }], usage: null })
    const spaced = `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 3 } }, null, 1)}\n\n`.replace(/\n(?!\n|$)/g, ' ')
    for (const last of [usage, spaced]) {
      const strip = new UsageEventStrip()
      strip.onHeaders(200, { 'content-type': 'text/event-stream' })
      const out = strip.transform(Buffer.from(nullUsage + delta + nullUsage + last + 'data: [DONE]\n\n'))
      expect(Buffer.concat([out, strip.end() ?? Buffer.alloc(0)]).toString()).toBe(nullUsage + delta + nullUsage + 'data: [DONE]\n\n')
    }
  })

  it('keeps keys that only end in usage (no quote before it) and still finds the usage event after them', () => {
    const lookalike = event({ choices: [], xusage: { prompt_tokens: 1 } })
    const strip = new UsageEventStrip()
    strip.onHeaders(200, { 'content-type': 'text/event-stream' })
    const out = strip.transform(Buffer.from(delta + lookalike + usage + 'data: [DONE]\n\n'))
    expect(Buffer.concat([out, strip.end() ?? Buffer.alloc(0)]).toString()).toBe(delta + lookalike + 'data: [DONE]\n\n')
    const alone = new UsageEventStrip()
    alone.onHeaders(200, { 'content-type': 'text/event-stream' })
    expect(alone.transform(Buffer.from(lookalike)).toString()).toBe(lookalike)
  })

  it('passes events that carry choices, a plain JSON body and error answers unchanged', () => {
    const withChoices = event({ choices: [{ index: 0, delta: {} }], usage: { prompt_tokens: 1, completion_tokens: 1 } })
    const streamed = new UsageEventStrip()
    streamed.onHeaders(200, { 'content-type': 'text/event-stream' })
    expect(streamed.transform(Buffer.from(withChoices)).toString()).toBe(withChoices)
    const plain = new UsageEventStrip()
    const headers = { 'content-type': 'application/json', 'content-length': '10' }
    plain.onHeaders(200, headers)
    expect(headers['content-length']).toBe('10')
    expect(plain.transform(Buffer.from(usage)).toString()).toBe(usage)
    const failed = new UsageEventStrip()
    failed.onHeaders(500, { 'content-type': 'text/event-stream' })
    expect(failed.transform(Buffer.from(usage)).toString()).toBe(usage)
  })
})
