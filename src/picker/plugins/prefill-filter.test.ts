import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { Filter } from '../framework/types.js'
import { createPlugin, makeEndpoint, makeRequest } from './contract/fixtures.js'
import { filterContract } from './contract/filter-contract.js'
import { prefillFilter } from './prefill-filter.js'

filterContract(() => createPlugin(prefillFilter))

describe('prefill-filter', () => {
  it('keeps endpoints whose role includes prefill, drops unlabelled ones', () => {
    const roles = ['decode', 'prefill', 'both', 'encode-prefill', undefined]
    const eps = roles.map((r, i) => makeEndpoint(`p${i}`, {}, r ? { labels: { 'llm-d.ai/role': r } } : {}))
    const kept = createPlugin<Filter>(prefillFilter).filter(new CycleState(), makeRequest(), eps)
    expect(kept.map((e) => e.ref.name)).toEqual(['p1', 'p2', 'p3'])
  })
})
