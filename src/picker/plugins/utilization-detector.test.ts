import { describe, expect, it } from 'vitest'
import type { SaturationDetector } from '../framework/types.js'
import { createPlugin, makeEndpoint, makeRequest } from './contract/fixtures.js'
import { filterContract } from './contract/filter-contract.js'
import { utilizationDetector } from './utilization-detector.js'
import { CycleState } from '../framework/cycle-state.js'
import type { Filter } from '../framework/types.js'

filterContract(() => createPlugin(utilizationDetector))

describe('utilization-detector', () => {
  const now = 1_000_050 // fixture metrics are 50 ms old
  const detector = createPlugin<SaturationDetector & Filter>(utilizationDetector)
  it('averages max(q/5, kv/0.8) over endpoints', () => {
    const eps = [makeEndpoint('a', { waitingQueueSize: 5, kvCacheUsagePercent: 0.4 }), makeEndpoint('b', { waitingQueueSize: 0, kvCacheUsagePercent: 0.4 })]
    expect(detector.saturation(eps, now)).toBeCloseTo(0.75)
  })
  it('counts stale endpoints as saturated (fail-closed) and an empty pool as saturated', () => {
    const eps = [makeEndpoint('a', { updatedAt: now - 500 }), makeEndpoint('b', { updatedAt: now - 500 })]
    expect(detector.saturation(eps, now)).toBe(1)
    expect(detector.saturation([], now)).toBe(1)
  })
  it('as a filter drops stale and overloaded endpoints, failing open', () => {
    const eps = [makeEndpoint('ok'), makeEndpoint('busy', { waitingQueueSize: 9 }), makeEndpoint('stale', { updatedAt: now - 1000 })]
    expect(detector.filter(new CycleState(), makeRequest({ now }), eps).map((e) => e.ref.name)).toEqual(['ok'])
    expect(detector.filter(new CycleState(), makeRequest({ now }), eps.slice(1)).map((e) => e.ref.name)).toEqual(['busy', 'stale'])
  })
  it('accepts GIE v1.3 threshold spellings with Go durations', () => {
    expect(utilizationDetector.parameters.parse({ queueDepthThreshold: 10, metricsStalenessThreshold: '1s' })).toMatchObject({ queueDepthThreshold: 10, metricsStalenessThreshold: 1000 })
  })
})
