import { describe, expect, it } from 'vitest'
import { DEFAULT_PICKER_CONFIG_YAML } from '../default-config.js'
import { makeEndpoint, makeRequest } from '../plugins/contract/fixtures.js'
import type { SchedulingRequest } from './types.js'
import { schedulerFor } from './testdata/scheduler-for.js'

/** Runs a cycle and the PreRequest plugins, as the picker does; returns the primary pick's name. */
function route(s: ReturnType<typeof schedulerFor>, req: SchedulingRequest, eps: ReturnType<typeof makeEndpoint>[]) {
  const out = s.schedule(req, eps, true)
  for (const p of s.plugins.preRequests) p.preRequest(out.cycle, req, out.result, { headers: {}, removeHeaders: new Set(), responseHeaders: {} })
  return { name: out.result.profileResults.get(out.result.primaryProfile)!.targets[0]!.ref.name, out }
}

describe('Scheduler with the default config', () => {
  it('totals Σ weight·clamp(score) and explains every candidate', () => {
    const s = schedulerFor(DEFAULT_PICKER_CONFIG_YAML)
    const eps = [makeEndpoint('pod-1', { waitingQueueSize: 4, kvCacheUsagePercent: 0.5 }), makeEndpoint('pod-2', { waitingQueueSize: 0, kvCacheUsagePercent: 0.25 })]
    const { name, out } = route(s, makeRequest(), eps)
    expect(name).toBe('pod-2')
    expect(out.profilesRun).toEqual(['default'])
    expect(out.explain).toEqual([
      {
        profile: 'default',
        endpoint: 'default/pod-1',
        scores: [
          { scorer: 'queue-scorer', raw: 0, weight: 2, weighted: 0 },
          { scorer: 'kv-cache-utilization-scorer', raw: 0.5, weight: 2, weighted: 1 },
          { scorer: 'prefix-cache-scorer', raw: 0, weight: 3, weighted: 0 },
        ],
        total: 1,
        picked: false,
      },
      {
        profile: 'default',
        endpoint: 'default/pod-2',
        scores: [
          { scorer: 'queue-scorer', raw: 1, weight: 2, weighted: 2 },
          { scorer: 'kv-cache-utilization-scorer', raw: 0.75, weight: 2, weighted: 1.5 },
          { scorer: 'prefix-cache-scorer', raw: 0, weight: 3, weighted: 0 },
        ],
        total: 3.5,
        picked: true,
      },
    ])
  })

  it('sends a shared prefix back to the endpoint that got it, until load outweighs it', () => {
    const s = schedulerFor(DEFAULT_PICKER_CONFIG_YAML)
    const system = 'You are a meticulous assistant. '.repeat(40)
    const eps = [makeEndpoint('a'), makeEndpoint('b'), makeEndpoint('c')]
    const first = route(s, makeRequest({ prompt: system + 'Q1' }), eps).name
    for (const q of ['Q2', 'Q3', 'Q4']) expect(route(s, makeRequest({ prompt: system + q }), eps).name).toBe(first)
    // prefix 3 < queue 2 + kv 2: a fully loaded holder loses to an idle endpoint.
    const loaded = eps.map((e) => (e.ref.name === first ? makeEndpoint(first, { waitingQueueSize: 10, kvCacheUsagePercent: 1 }) : e))
    expect(route(s, makeRequest({ prompt: system + 'Q5' }), loaded).name).not.toBe(first)
  })

  it('explains the filter that dropped a candidate', () => {
    const s = schedulerFor('plugins: [{type: decode-filter}, {type: queue-scorer}]')
    const eps = [makeEndpoint('p', {}, { labels: { 'llm-d.ai/role': 'prefill' } }), makeEndpoint('d')]
    const out = s.schedule(makeRequest(), eps, true)
    expect(out.explain!.map((r) => [r.endpoint, r.droppedBy, r.picked, r.scores.length])).toEqual([
      ['default/p', 'decode-filter', false, 0],
      ['default/d', undefined, true, 1],
    ])
  })

  it('rejects with 429 when the filters leave nothing', () => {
    const s = schedulerFor('plugins: [{type: prefill-filter}]')
    expect(() => s.schedule(makeRequest(), [makeEndpoint('d')])).toThrowError(expect.objectContaining({ status: 429, code: 'rejected-saturated' }))
  })

  it('returns fallbacks with maxNumOfEndpoints', () => {
    const s = schedulerFor('plugins: [{type: queue-scorer}, {type: max-score-picker, parameters: {maxNumOfEndpoints: 3}}]')
    const eps = [3, 1, 2, 9].map((q, i) => makeEndpoint(`p${i}`, { waitingQueueSize: q }))
    const out = s.schedule(makeRequest(), eps)
    expect(out.result.profileResults.get('default')!.targets.map((e) => e.ref.name)).toEqual(['p1', 'p2', 'p0'])
  })
})
