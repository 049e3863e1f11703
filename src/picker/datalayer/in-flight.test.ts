import { describe, expect, it } from 'vitest'
import { InFlightTracker } from './in-flight.js'

describe('InFlightTracker', () => {
  it('counts requests and tokens per endpoint until removed; removing twice changes nothing', () => {
    const t = new InFlightTracker(1000)
    const r1 = t.add('a', 100, 0)
    t.add('a', 50, 0)
    t.add('b', 10, 0)
    expect(t.load('a')).toEqual({ requests: 2, tokens: 150 })
    t.remove(r1)
    t.remove(r1)
    expect(t.load('a')).toEqual({ requests: 1, tokens: 50 })
    expect(t.load('b')).toEqual({ requests: 1, tokens: 10 })
  })

  it('expires requests whose completion never came; removing one after it expired changes nothing', () => {
    const t = new InFlightTracker(1000)
    const r1 = t.add('a', 100, 0)
    t.add('a', 100, 500)
    t.expire(1000)
    expect(t.load('a')).toEqual({ requests: 1, tokens: 100 })
    t.remove(r1)
    expect(t.load('a')).toEqual({ requests: 1, tokens: 100 })
    t.expire(1500)
    expect(t.load('a')).toEqual({ requests: 0, tokens: 0 })
  })

  it('still expires on time after the oldest completed and new requests came in between checks', () => {
    const t = new InFlightTracker(1000)
    const r1 = t.add('a', 1, 0)
    t.add('a', 1, 200)
    t.expire(100)
    t.remove(r1)
    t.add('b', 1, 300)
    t.expire(1199)
    expect(t.load('a').requests).toBe(1)
    t.expire(1200)
    expect(t.load('a').requests).toBe(0)
    expect(t.load('b').requests).toBe(1)
    t.expire(1300)
    expect(t.load('b').requests).toBe(0)
    t.add('a', 1, 5000)
    t.expire(6000)
    expect(t.load('a').requests).toBe(0)
  })

  it('every request is its own load, ended by its own entry', () => {
    const t = new InFlightTracker(1000)
    const first = t.add('a', 1, 0)
    const second = t.add('a', 1, 0)
    t.remove(first)
    expect(t.load('a').requests).toBe(1)
    t.remove(second)
    expect(t.load('a').requests).toBe(0)
  })

  it('an endpoint that left the pool reports no load; its requests still in flight end harmlessly', () => {
    const t = new InFlightTracker(1000)
    const r = t.add('a', 5, 0)
    t.forget('a')
    expect(t.load('a')).toEqual({ requests: 0, tokens: 0 })
    t.remove(r)
    t.add('a', 2, 0)
    expect(t.load('a')).toEqual({ requests: 1, tokens: 2 })
  })
})
