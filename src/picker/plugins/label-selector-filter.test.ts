import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { Filter } from '../framework/types.js'
import { createPlugin, makeEndpoint, makeRequest } from './contract/fixtures.js'
import { filterContract } from './contract/filter-contract.js'
import { labelSelectorFilter } from './label-selector-filter.js'

filterContract(() => createPlugin(labelSelectorFilter, { matchLabels: { tier: 'gold' } }))

describe('label-selector-filter', () => {
  const eps = [
    makeEndpoint('a', {}, { labels: { tier: 'gold', zone: 'x' } }),
    makeEndpoint('b', {}, { labels: { tier: 'silver', zone: 'y' } }),
    makeEndpoint('c', {}, { labels: { zone: 'x' } }),
  ]
  const names = (params: unknown) => createPlugin<Filter>(labelSelectorFilter, params).filter(new CycleState(), makeRequest(), eps).map((e) => e.ref.name)
  it('ANDs matchLabels and matchExpressions', () => {
    expect(names({ matchLabels: { zone: 'x' } })).toEqual(['a', 'c'])
    expect(names({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold', 'silver'] }] })).toEqual(['a', 'b'])
    expect(names({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['gold'] }] })).toEqual(['b', 'c'])
    expect(names({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] })).toEqual(['c'])
    expect(names({ matchLabels: { zone: 'x' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] })).toEqual(['a'])
  })
  it('rejects In without values', () => {
    const r = labelSelectorFilter.parameters.safeParse({ matchExpressions: [{ key: 'k', operator: 'In' }] })
    expect(r.success).toBe(false)
  })
})
