import type { CounterState } from './limit-store.js'

/** What a limit's headers say whatever its count: the quota (both forms) and the policy's quoted name. */
export interface RateLimitHeaderParts {
  limit: string
  policy: string
  name: string
}

/** A rate's parts, worked out once when its policy is compiled. */
export function rateLimitHeaderParts(name: string, limit: number, window: string, windowMs: number): RateLimitHeaderParts {
  const windowS = Math.max(1, Math.round(windowMs / 1000))
  const quoted = JSON.stringify(`${name}-${window}`)
  return { limit: `${limit}, ${limit};w=${windowS}`, policy: `${quoted};q=${limit};w=${windowS}`, name: quoted }
}

/**
 * Limitador's draft-03 headers (`X-RateLimit-*`, reset as seconds from now) and the IETF draft's `RateLimit-Policy` /
 * `RateLimit`, for the counter closest to its limit (`parts`: that limit's rate).
 */
export function rateLimitHeaders(parts: RateLimitHeaderParts, state: CounterState, remaining: number): Record<string, string> {
  const resetS = Math.max(0, Math.ceil(state.resetMs / 1000))
  const left = Math.max(0, remaining)
  return {
    'x-ratelimit-limit': parts.limit,
    'x-ratelimit-remaining': String(left),
    'x-ratelimit-reset': String(resetS),
    'ratelimit-policy': parts.policy,
    ratelimit: `${parts.name};r=${left};t=${resetS}`,
  }
}
