import { describe, expect, it } from 'vitest'
import type { CelContext } from '../auth/cel.js'
import { CompiledLimits } from './compiled-limits.js'
import type { LimitStore } from './limit-store.js'
import { MemoryLimitStore } from './memory.js'
import { RateLimiter } from './rate-limiter.js'

const context = (userid: string, path = '/v1/chat/completions'): CelContext => ({
  request: { path, url_path: path, query: '', method: 'POST', host: 'h', headers: {} },
  auth: { identity: { userid, tier: 'free' } },
})

describe('RateLimiter', () => {
  const limits = (tokens: boolean) =>
    new CompiledLimits(
      tokens ? 'TokenRateLimitPolicy/ns/t' : 'RateLimitPolicy/ns/r',
      { limits: { free: { rates: [{ limit: tokens ? 100 : 2, window: '1m' }], counters: [{ expression: 'auth.identity.userid' }], when: [{ predicate: '!request.path.endsWith("/v1/models")' }] } } },
      tokens,
    )

  it('counts per counter value, skips what `when` excludes, and reserves then settles tokens', async () => {
    const limiter = new RateLimiter(new MemoryLimitStore(), limits(false), limits(true), { failureMode: 'fail-closed', headers: 'draft-03' }, () => {})
    const first = await limiter.admit(context('a'), 30, 1 << 30)
    expect(first).toMatchObject({ admitted: true, granted: 100 })
    if (!first.admitted) throw new Error('unreachable')
    await limiter.settle(first.hold!, 20)
    const second = await limiter.admit(context('a'), 30, 50)
    expect(second).toMatchObject({ admitted: true, granted: 50 })
    const third = await limiter.admit(context('a'), 1, 1)
    expect(third).toMatchObject({ admitted: false, status: 429 })
    expect((await limiter.admit(context('b'), 1, 1)).admitted).toBe(true)
    expect((await limiter.admit(context('a', '/v1/models'), 0, 0)).admitted).toBe(true)
  })

  it('decides at once when the store answers at once, and waits only for a store that must be asked', async () => {
    const memory = new MemoryLimitStore()
    const now = new RateLimiter(memory, limits(false), limits(true), { failureMode: 'fail-closed', headers: 'draft-03' }, () => {})
    const decision = now.admit(context('a'), 10, 10)
    expect(decision).not.toBeInstanceOf(Promise)
    expect(decision).toMatchObject({ admitted: true, granted: 10 })
    if (decision instanceof Promise || !decision.admitted) throw new Error('unreachable')
    expect(now.settle(decision.hold!, 4)).toBeUndefined()
    const remote: LimitStore = { reserve: (e, n, w) => Promise.resolve(memory.reserve(e, n, w)), adjust: () => Promise.resolve(), close: () => Promise.resolve() }
    const later = new RateLimiter(remote, limits(false), undefined, { failureMode: 'fail-closed', headers: 'draft-03' }, () => {})
    const waited = later.admit(context('b'), 0, 0)
    expect(waited).toBeInstanceOf(Promise)
    expect(await waited).toMatchObject({ admitted: true, headers: { 'x-ratelimit-limit': '2, 2;w=60', 'x-ratelimit-remaining': '1', ratelimit: '"free-1m";r=1;t=60' } })
  })

  it('puts the rate-limit state on admitted answers only when asked to (draft-03); a refusal always carries it', async () => {
    const quiet = new RateLimiter(new MemoryLimitStore(), limits(false), undefined, { failureMode: 'fail-closed', headers: 'none' }, () => {})
    expect(await quiet.admit(context('a'), 0, 0)).toMatchObject({ admitted: true, headers: undefined })
    await quiet.admit(context('a'), 0, 0)
    expect(await quiet.admit(context('a'), 0, 0)).toMatchObject({ admitted: false, status: 429, headers: { 'retry-after': '60', 'x-ratelimit-remaining': '0', ratelimit: '"free-1m";r=0;t=60' } })
  })

  it('applies the failure mode when the store does not answer', async () => {
    const broken: LimitStore = { reserve: () => Promise.reject(new Error('ECONNREFUSED')), adjust: () => Promise.resolve(), close: () => Promise.resolve() }
    const seen: string[] = []
    const closed = new RateLimiter(broken, limits(false), undefined, { failureMode: 'fail-closed', headers: 'draft-03' }, (_e, r) => seen.push(r))
    expect(await closed.admit(context('a'), 0, 0)).toMatchObject({ admitted: false, status: 503 })
    const open = new RateLimiter(broken, limits(false), undefined, { failureMode: 'fail-open', headers: 'draft-03' }, () => {})
    expect(await open.admit(context('a'), 0, 0)).toMatchObject({ admitted: true })
    expect(seen).toEqual(['unavailable'])
  })
})
