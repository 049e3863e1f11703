import { describe, expect, it } from 'vitest'
import { InFlightTracker } from './in-flight.js'

describe('InFlightTracker', () => {
  it('counts requests and tokens per endpoint until removed', () => {
    const t = new InFlightTracker(1000)
    t.add('r1', 'a', 100, 0)
    t.add('r2', 'a', 50, 0)
    t.add('r3', 'b', 10, 0)
    expect(t.load('a')).toEqual({ requests: 2, tokens: 150 })
    t.remove('r1')
    t.remove('r1')
    expect(t.load('a')).toEqual({ requests: 1, tokens: 50 })
  })
  it('expires requests whose completion never came', () => {
    const t = new InFlightTracker(1000)
    t.add('r1', 'a', 100, 0)
    t.add('r2', 'a', 100, 500)
    t.expire(1000)
    expect(t.load('a')).toEqual({ requests: 1, tokens: 100 })
    t.expire(1500)
    expect(t.load('a')).toEqual({ requests: 0, tokens: 0 })
  })
})
