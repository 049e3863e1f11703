import { z } from 'zod'

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Parses a Go duration string (`200ms`, `2m`, `1m30s`) into milliseconds; undefined if malformed. */
export function parseGoDuration(text: string): number | undefined {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)]
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined
  return parts.reduce((ms, p) => ms + Number(p[1]) * (UNIT_MS[p[2] ?? ''] ?? 0), 0)
}

/** A Go duration string or a number of milliseconds, as plugin parameters accept them. */
export const durationMs = z.union([
  z.number().nonnegative(),
  z.string().transform((text, ctx) => {
    const ms = parseGoDuration(text)
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `invalid duration ${JSON.stringify(text)} (expected e.g. 200ms, 2s, 1m)` })
      return z.NEVER
    }
    return ms
  }),
])
