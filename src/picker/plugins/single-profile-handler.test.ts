import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { ProfileHandler, SchedulerProfile } from '../framework/types.js'
import { createPlugin, makeEndpoint, makeRequest } from './contract/fixtures.js'
import { singleProfileHandler } from './single-profile-handler.js'
import { profileHandlerContract } from './contract/profile-handler-contract.js'
import { SPEC_CONFIGS } from '../framework/testdata/spec-configs.js'

profileHandlerContract('KServe default (no prefill)', SPEC_CONFIGS['KServe default (no prefill)']!)

describe('single-profile-handler', () => {
  const h = createPlugin<ProfileHandler>(singleProfileHandler)
  const profile = { name: 'default' } as SchedulerProfile
  const profiles = new Map([['default', profile]])
  it('runs the one profile once and makes it primary', () => {
    expect(h.pickProfiles(new CycleState(), makeRequest(), profiles, new Map())).toEqual([profile])
    const results = new Map([['default', { targets: [makeEndpoint('a')] }]])
    expect(h.pickProfiles(new CycleState(), makeRequest(), profiles, results)).toEqual([])
    expect(h.processResults(new CycleState(), makeRequest(), results).primaryProfile).toBe('default')
  })
  it('reports a profile that found nothing as 429', () => {
    expect(() => h.processResults(new CycleState(), makeRequest(), new Map([['default', undefined]]))).toThrowError(expect.objectContaining({ status: 429 }))
  })
  it('refuses configs with several profiles', () => {
    expect(singleProfileHandler.check!({}, { profileNames: ['a', 'b'] })).toHaveLength(1)
  })
})
