const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/**
 * When a key expires: a lifetime such as `90d` (MaaS's `expiresIn`), `720h` (its legacy `expiration`), `30m`, `45s`, or an
 * ISO 8601 date. Throws on anything else and on a moment not in the future.
 */
export function parseExpiry(text: string, now = Date.now()): Date {
  const lifetime = /^([1-9]\d*)([smhd])$/.exec(text.trim())
  const at = lifetime ? now + Number(lifetime[1]) * UNIT_MS[lifetime[2] as keyof typeof UNIT_MS] : /^\d{4}-\d\d-\d\d/.test(text) ? Date.parse(text) : NaN
  if (!Number.isFinite(at)) throw new Error(`invalid expiry ${JSON.stringify(text)}: a lifetime such as 90d, 720h, 30m or an ISO date such as 2027-01-31`)
  if (at <= now) throw new Error(`expiry ${JSON.stringify(text)} is not in the future`)
  return new Date(at)
}
