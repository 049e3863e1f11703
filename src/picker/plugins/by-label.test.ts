import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { Filter } from '../framework/types.js'
import { byLabel } from './by-label.js'
import { createPlugin, makeEndpoint, makeRequest } from './contract/fixtures.js'
import { filterContract } from './contract/filter-contract.js'

filterContract(() => createPlugin(byLabel, { label: 'tier', validValues: ['gold'] }))

describe('by-label', () => {
  const eps = [makeEndpoint('a', {}, { labels: { tier: 'gold' } }), makeEndpoint('b', {}, { labels: { tier: 'x' } }), makeEndpoint('c')]
  it('matches exact values, and unlabelled endpoints only with allowsNoLabel', () => {
    const run = (p: unknown) => createPlugin<Filter>(byLabel, p).filter(new CycleState(), makeRequest(), eps).map((e) => e.ref.name)
    expect(run({ label: 'tier', validValues: ['gold'] })).toEqual(['a'])
    expect(run({ label: 'tier', validValues: ['gold'], allowsNoLabel: true })).toEqual(['a', 'c'])
  })
})
