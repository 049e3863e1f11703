import { describe, expect, it } from 'vitest'
import { BlockLru } from './block-lru.js'

describe('BlockLru', () => {
  it('evicts the least recently used key; a touch makes a key the newest', () => {
    const lru = new BlockLru()
    expect([1, 2, 3].map((k) => lru.touch(k))).toEqual([true, true, true])
    expect(lru.touch(1)).toBe(false)
    expect(lru.size).toBe(3)
    expect(lru.evictOldest()).toBe(2)
    expect(lru.evictOldest()).toBe(3)
    lru.touch(4)
    expect(lru.evictOldest()).toBe(1)
    expect(lru.evictOldest()).toBe(4)
    expect(lru.evictOldest()).toBeUndefined()
    expect(lru.size).toBe(0)
  })

  it('keeps order through many touches of the newest and oldest keys', () => {
    const lru = new BlockLru()
    for (let k = 0; k < 100; k++) lru.touch(k)
    for (let k = 0; k < 100; k += 2) lru.touch(k)
    const order = Array.from({ length: 100 }, () => lru.evictOldest())
    expect(order).toEqual([...Array.from({ length: 50 }, (_, i) => 2 * i + 1), ...Array.from({ length: 50 }, (_, i) => 2 * i)])
  })
})
