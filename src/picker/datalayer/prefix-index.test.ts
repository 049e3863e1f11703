import { describe, expect, it } from 'vitest'
import { PrefixIndex } from './prefix-index.js'

describe('PrefixIndex', () => {
  it('counts matched hashes per endpoint and stops at the first hash nobody has', () => {
    const idx = new PrefixIndex(100)
    idx.add('a', [1, 2, 3, 4])
    idx.add('b', [1, 2])
    expect(idx.match([1, 2, 3, 4, 5])).toEqual(new Map([['a', 4], ['b', 2]]))
    expect(idx.match([9, 1, 2])).toEqual(new Map())
  })
  it('evicts least recently used blocks per endpoint and keeps the index within capacity', () => {
    const idx = new PrefixIndex(3)
    idx.add('a', [1, 2, 3])
    idx.add('a', [1]) // touch 1: now 2 is the oldest
    idx.add('a', [4])
    expect(idx.match([2])).toEqual(new Map())
    expect(idx.match([1])).toEqual(new Map([['a', 1]]))
    expect(idx.size()).toBe(3)
    idx.add('b', [4])
    idx.setCapacity('a', 1)
    expect(idx.match([4])).toEqual(new Map([['a', 1], ['b', 1]]))
    expect(idx.size()).toBe(1)
    idx.removeEndpoint('a')
    expect(idx.match([4])).toEqual(new Map([['b', 1]]))
  })
  it('stays bounded by capacity × endpoints under many distinct blocks', () => {
    const idx = new PrefixIndex(1000)
    for (let i = 0; i < 50_000; i++) idx.add(`e${i % 4}`, [i])
    expect(idx.size()).toBe(4000)
  })
})
