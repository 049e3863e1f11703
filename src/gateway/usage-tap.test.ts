import { describe, expect, it } from 'vitest'
import { UsageTap } from './usage-tap.js'

const event = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`
const delta = event({ choices: [{ index: 0, delta: { content: 'Hi' } }] })
const usage = event({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 } })

describe('UsageTap', () => {
  it('reads a stream\'s usage and keeps the usage event it asked for from the client, across any chunking', () => {
    const whole = Buffer.from(delta + usage + 'data: [DONE]\n\n')
    for (let cut = 1; cut < whole.length; cut += 7) {
      const tap = new UsageTap(true)
      const headers: Record<string, string> = { 'content-type': 'text/event-stream', 'content-length': String(whole.length) }
      tap.onHeaders(200, headers)
      expect(headers['content-length']).toBeUndefined()
      const out = Buffer.concat([tap.transform(whole.subarray(0, cut)), tap.transform(whole.subarray(cut)), tap.end() ?? Buffer.alloc(0)]).toString()
      expect(out).toBe(delta + 'data: [DONE]\n\n')
      expect(tap.usage).toEqual({ promptTokens: 9, completionTokens: 3, totalTokens: 12 })
    }
  })

  it('passes the usage event through when the client asked for it, and reads a plain JSON body at its end', () => {
    const streamed = new UsageTap(false)
    streamed.onHeaders(200, { 'content-type': 'text/event-stream' })
    expect(streamed.transform(Buffer.from(usage)).toString()).toBe(usage)
    const plain = new UsageTap(false)
    plain.onHeaders(200, { 'content-type': 'application/json' })
    const body = JSON.stringify({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 2 } })
    expect(plain.transform(Buffer.from(body)).toString()).toBe(body)
    plain.end()
    expect(plain.usage?.totalTokens).toBe(3)
  })

  it('leaves error answers alone', () => {
    const tap = new UsageTap(true)
    tap.onHeaders(500, { 'content-type': 'text/event-stream' })
    expect(tap.transform(Buffer.from(usage)).toString()).toBe(usage)
    expect(tap.usage).toBeUndefined()
  })
})
