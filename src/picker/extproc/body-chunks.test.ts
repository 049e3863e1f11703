import { describe, expect, it } from 'vitest'
import { splitBody } from './body-chunks.js'

describe('splitBody', () => {
  it('splits at the 62 000-byte limit and keeps every byte in order', () => {
    const body = Buffer.alloc(62_000 * 2 + 1, 7)
    const chunks = splitBody(body)
    expect(chunks.map((chunk) => chunk.length)).toEqual([62_000, 62_000, 1])
    expect(Buffer.concat(chunks).equals(body)).toBe(true)
  })
  it('keeps a body of exactly the limit in one chunk and an empty body as one empty chunk', () => {
    expect(splitBody(Buffer.alloc(62_000)).length).toBe(1)
    expect(splitBody(Buffer.alloc(0)).map((chunk) => chunk.length)).toEqual([0])
  })
})
