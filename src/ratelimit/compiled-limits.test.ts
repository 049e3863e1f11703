import { describe, expect, it } from 'vitest'
import type { CelContext } from '../auth/cel.js'
import { CompiledLimits, type LimitEntry } from './compiled-limits.js'

const limits = (when: string) =>
  new CompiledLimits('RateLimitPolicy/ns/tiers', { limits: { free: { rates: [{ limit: 5, window: '2m' }], counters: [{ expression: 'auth.identity.userid' }], when: [{ predicate: when }] } } }, false)
const context = (identity: Record<string, unknown>, path: string, shared: boolean): CelContext => ({
  request: { path, url_path: path, query: '', method: 'POST', host: 'gw', headers: { 'x-team': 'a' } },
  auth: { identity },
  sharedIdentity: shared,
})
const keys = (l: CompiledLimits, c: CelContext) => {
  const out: LimitEntry[] = []
  l.collect(c, out)
  return out.map((e) => e.key)
}

describe('CompiledLimits', () => {
  it('gives a shared identity the same counters as working them out afresh, per path', () => {
    const l = limits('auth.identity.tier == "free" && !request.path.endsWith("/v1/models")')
    const alice = { userid: 'alice', tier: 'free' }
    for (const shared of [true, true, false]) {
      expect(keys(l, context(alice, '/v1/chat/completions', shared))).toEqual(['RateLimitPolicy/ns/tiers/free/2m|alice'])
      expect(keys(l, context(alice, '/v1/models', shared))).toEqual([])
      expect(keys(l, context({ userid: 'bob', tier: 'premium' }, '/v1/chat/completions', shared))).toEqual([])
    }
  })

  it('works out afresh each time when a predicate reads more of the request than its path', () => {
    const l = limits('request.headers["x-team"] == "a"')
    const alice = { userid: 'alice' }
    expect(keys(l, context(alice, '/p', true))).toEqual(['RateLimitPolicy/ns/tiers/free/2m|alice'])
    const other = context(alice, '/p', true)
    other.request = { ...other.request, headers: { 'x-team': 'b' } }
    expect(keys(l, other)).toEqual([])
  })
})
