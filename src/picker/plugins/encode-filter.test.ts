import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { Filter } from '../framework/types.js'
import { createPlugin, makeEndpoint, makeRequest } from './contract/fixtures.js'
import { filterContract } from './contract/filter-contract.js'
import { encodeFilter } from './encode-filter.js'

filterContract(() => createPlugin(encodeFilter))

describe('encode-filter', () => {
  it('keeps endpoints whose role includes encode', () => {
    const eps = ['encode', 'encode-prefill-decode', 'decode'].map((r, i) => makeEndpoint(`p${i}`, {}, { labels: { 'llm-d.ai/role': r } }))
    expect(createPlugin<Filter>(encodeFilter).filter(new CycleState(), makeRequest(), eps).map((e) => e.ref.name)).toEqual(['p0', 'p1'])
  })
})
