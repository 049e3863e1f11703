import { describe, expect, it } from 'vitest'
import { LinkedList } from './linked-list.js'

describe('LinkedList', () => {
  it('keeps values oldest first; removal from any place relinks the rest', () => {
    const list = new LinkedList<string>()
    const a = list.push('a')
    const b = list.push('b')
    const c = list.push('c')
    expect(list.remove(b)).toBe(true)
    expect(list.size).toBe(2)
    expect(list.first).toBe('a')
    expect(list.remove(a)).toBe(true)
    expect(list.first).toBe('c')
    list.push('d')
    expect(list.shift()).toBe('c')
    expect(list.shift()).toBe('d')
    expect(list.shift()).toBeUndefined()
    expect(list.size).toBe(0)
    expect(list.remove(c)).toBe(false)
  })

  it('a removed node keeps no link and no value, and removing it again changes nothing', () => {
    const list = new LinkedList<{ id: number }>()
    list.push({ id: 1 })
    const middle = list.push({ id: 2 })
    list.push({ id: 3 })
    list.remove(middle)
    expect([middle.prev, middle.next, middle.value, middle.owner]).toEqual([undefined, undefined, undefined, undefined])
    expect(list.remove(middle)).toBe(false)
    expect(list.size).toBe(2)
  })

  it('a node of another list is not removed', () => {
    const list = new LinkedList<number>()
    const other = new LinkedList<number>()
    const node = other.push(1)
    list.push(2)
    expect(list.remove(node)).toBe(false)
    expect([list.size, other.size, other.first]).toEqual([1, 1, 1])
  })

  it('take() hands back the value of one of its own nodes once, and nothing for anything else', () => {
    const list = new LinkedList<string>()
    const a = list.push('a')
    list.push('b')
    expect(list.take(a)).toBe('a')
    expect(list.take(a)).toBeUndefined()
    expect(list.take(new LinkedList<string>().push('c'))).toBeUndefined()
    expect(list.take({ value: 'b' })).toBeUndefined()
    expect(list.take(undefined)).toBeUndefined()
    expect([list.size, list.first]).toEqual([1, 'b'])
  })
})
