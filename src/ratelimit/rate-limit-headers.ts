import type { CounterState } from './limit-store.js'
import type { LimitEntry } from './compiled-limits.js'

/**
 * Limitador's draft-03 headers (`X-RateLimit-*`, reset as seconds from now) and the IETF draft's `RateLimit-Policy` /
 * `RateLimit`, for the counter closest to its limit.
 */
export function rateLimitHeaders(entry: LimitEntry, state: CounterState, remaining: number): Record<string, string> {
  const windowS = Math.max(1, Math.round(entry.windowMs / 1000))
  const resetS = Math.max(0, Math.ceil(state.resetMs / 1000))
  const name = JSON.stringify(`${entry.name}-${entry.window}`)
  return {
    'x-ratelimit-limit': `${entry.limit}, ${entry.limit};w=${windowS}`,
    'x-ratelimit-remaining': String(Math.max(0, remaining)),
    'x-ratelimit-reset': String(resetS),
    'ratelimit-policy': `${name};q=${entry.limit};w=${windowS}`,
    ratelimit: `${name};r=${Math.max(0, remaining)};t=${resetS}`,
  }
}
