import { describe, expect, it } from 'vitest'
import { parseExpiry } from './expiry.js'

describe('parseExpiry', () => {
  const now = Date.UTC(2026, 0, 1)
  it('takes lifetimes in days, hours, minutes and seconds', () => {
    expect(parseExpiry('90d', now).getTime()).toBe(now + 90 * 86_400_000)
    expect(parseExpiry('720h', now).getTime()).toBe(now + 720 * 3_600_000)
    expect(parseExpiry('30m', now).getTime()).toBe(now + 30 * 60_000)
    expect(parseExpiry('45s', now).getTime()).toBe(now + 45_000)
  })
  it('takes an ISO date or date-time', () => {
    expect(parseExpiry('2027-01-31', now).toISOString()).toBe('2027-01-31T00:00:00.000Z')
    expect(parseExpiry('2026-06-01T12:00:00Z', now).toISOString()).toBe('2026-06-01T12:00:00.000Z')
  })
  it('refuses other text, zero and the past', () => {
    for (const bad of ['', '90', 'd', '0d', '1w', '-1d', 'tomorrow', '2026-13-45']) expect(() => parseExpiry(bad, now)).toThrow(/invalid expiry/)
    expect(() => parseExpiry('2025-12-31', now)).toThrow(/not in the future/)
  })
})
