import { afterEach, describe, expect, it, vi } from 'vitest'
import { isoNow } from './iso-now.js'

describe('isoNow', () => {
  afterEach(() => vi.useRealTimers())

  it('is exactly toISOString, across milliseconds, seconds and days', () => {
    vi.useFakeTimers()
    const instants = [Date.UTC(2026, 11, 1, 10, 0, 0, 0), Date.UTC(2026, 11, 1, 10, 0, 0, 7), Date.UTC(2026, 11, 1, 10, 0, 0, 42), Date.UTC(2026, 11, 1, 10, 0, 0, 999)]
    instants.push(instants[3]! + 1, Date.UTC(2026, 11, 31, 23, 59, 59, 999), Date.UTC(2027, 0, 1, 0, 0, 0, 1))
    for (const ms of instants) {
      vi.setSystemTime(ms)
      expect(isoNow()).toBe(new Date(ms).toISOString())
    }
  })
})
