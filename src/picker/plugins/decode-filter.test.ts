import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { Filter } from '../framework/types.js'
import { createPlugin, makeEndpoint, makeRequest } from './contract/fixtures.js'
import { filterContract } from './contract/filter-contract.js'
import { decodeFilter } from './decode-filter.js'

filterContract(() => createPlugin(decodeFilter))

describe('decode-filter', () => {
  it('keeps decode, both, prefill-decode and unlabelled endpoints', () => {
    const roles = ['decode', 'prefill', 'both', 'prefill-decode', 'encode', undefined]
    const eps = roles.map((r, i) => makeEndpoint(`p${i}`, {}, r ? { labels: { 'llm-d.ai/role': r } } : {}))
    const kept = createPlugin<Filter>(decodeFilter).filter(new CycleState(), makeRequest(), eps)
    expect(kept.map((e) => e.ref.name)).toEqual(['p0', 'p2', 'p3', 'p5'])
  })
})
