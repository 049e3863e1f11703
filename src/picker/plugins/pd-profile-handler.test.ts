import { describe, expect, it } from 'vitest'
import { schedulerFor } from '../framework/testdata/scheduler-for.js'
import { SPEC_CONFIGS } from '../framework/testdata/spec-configs.js'
import type { SchedulingRequest } from '../framework/types.js'
import { emptyMutations, makeEndpoint, makeRequest } from './contract/fixtures.js'
import { profileHandlerContract } from './contract/profile-handler-contract.js'

const prefill = makeEndpoint('prefill-0', {}, { labels: { 'llm-d.ai/role': 'prefill' }, port: 8100 })
const decode = makeEndpoint('decode-0', {}, { labels: { 'llm-d.ai/role': 'decode' }, port: 8200 })

function run(s: ReturnType<typeof schedulerFor>, req: SchedulingRequest, eps = [prefill, decode]) {
  const out = s.schedule(req, eps)
  const mutations = emptyMutations()
  for (const p of s.plugins.preRequests) p.preRequest(out.cycle, req, out.result, mutations)
  return { primary: out.result.profileResults.get(out.result.primaryProfile)!.targets[0]!.ref.address, profiles: out.profilesRun, mutations, result: out.result }
}

for (const name of ['llm-d v0.3 P/D (example B)', 'llm-d v0.5 P/D', "seed's P/D fix"]) profileHandlerContract(name, SPEC_CONFIGS[name]!)

describe('pd-profile-handler (llm-d v0.3 threshold rule, example B)', () => {
  const s = schedulerFor(SPEC_CONFIGS['llm-d v0.3 P/D (example B)']!)
  const base = 'a'.repeat(40) + 'b'.repeat(60) // 100 chars = 20 blocks of 5
  it('runs decode then prefill for a cold prompt, and sets the prefiller header', () => {
    const r = run(s, makeRequest({ prompt: base }))
    expect(r.profiles).toEqual(['decode', 'prefill'])
    expect(r.primary).toBe('127.0.0.1:8200')
    expect(r.mutations.headers).toEqual({ 'x-prefiller-host-port': '127.0.0.1:8100' })
  })
  it('skips prefill when the uncached part is below threshold (10 chars)', () => {
    const r = run(s, makeRequest({ prompt: base + 'c'.repeat(9) }))
    expect(r.profiles).toEqual(['decode'])
    expect(r.mutations.headers).toEqual({})
    expect(r.mutations.removeHeaders.has('x-prefiller-host-port')).toBe(true)
    expect([...r.result.profileResults.keys()]).toEqual(['decode'])
  })
  it('runs prefill again once the uncached part reaches the threshold', () => {
    expect(run(s, makeRequest({ prompt: base + 'd'.repeat(30) })).profiles).toEqual(['decode', 'prefill'])
  })
  it('fails with 429 when no decode worker passes', () => {
    expect(() => run(s, makeRequest({ prompt: base }), [prefill])).toThrowError(/failed to find available decode workers/)
  })
})

describe('pd-profile-handler variants', () => {
  it('threshold 0 (the seed fix) always disaggregates', () => {
    const s = schedulerFor(SPEC_CONFIGS["seed's P/D fix"]!)
    const prompt = 'x'.repeat(300)
    run(s, makeRequest({ prompt }))
    expect(run(s, makeRequest({ prompt })).profiles).toEqual(['decode', 'prefill'])
  })
  it('deciderPluginName asks the decider; primaryPort rewrites the decode target', () => {
    const s = schedulerFor(`
plugins:
- {type: prefill-filter}
- {type: decode-filter}
- {type: prefix-based-pd-decider, name: decider, parameters: {nonCachedTokens: 8}}
- {type: pd-profile-handler, parameters: {deciderPluginName: decider, primaryPort: 8000}}
schedulingProfiles:
- {name: prefill, plugins: [{pluginRef: prefill-filter}]}
- {name: decode, plugins: [{pluginRef: decode-filter}]}`)
    expect(run(s, makeRequest({ prompt: 'short' })).profiles).toEqual(['decode']) // 2 tokens < 8
    const r = run(s, makeRequest({ prompt: 'y'.repeat(200) }))
    expect(r.profiles).toEqual(['decode', 'prefill'])
    expect(r.primary).toBe('127.0.0.1:8000')
  })
})
