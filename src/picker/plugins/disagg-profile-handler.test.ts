import { describe, expect, it } from 'vitest'
import { schedulerFor } from '../framework/testdata/scheduler-for.js'
import { SPEC_CONFIGS } from '../framework/testdata/spec-configs.js'
import type { SchedulingRequest } from '../framework/types.js'
import { emptyMutations, makeEndpoint, makeRequest } from './contract/fixtures.js'
import { profileHandlerContract } from './contract/profile-handler-contract.js'

const prefill = makeEndpoint('prefill-0', {}, { labels: { 'llm-d.ai/role': 'prefill' }, port: 8100 })
const decode = makeEndpoint('decode-0', {}, { labels: { 'llm-d.ai/role': 'decode' }, port: 8200 })
const encoder = makeEndpoint('encode-0', {}, { labels: { 'llm-d.ai/role': 'encode' }, port: 8300 })

function run(s: ReturnType<typeof schedulerFor>, req: SchedulingRequest, eps = [prefill, decode, encoder]) {
  const out = s.schedule(req, eps)
  const mutations = emptyMutations()
  for (const p of s.plugins.preRequests) p.preRequest(out.cycle, req, out.result, mutations)
  return { profiles: out.profilesRun, headers: mutations.headers, primary: out.result.primaryProfile }
}

for (const name of ['llm-d-router HEAD P/D (example C)', 'KServe default (with prefill)']) profileHandlerContract(name, SPEC_CONFIGS[name]!)

describe('disagg-profile-handler + prefix-based-pd-decider (llm-d HEAD, example C)', () => {
  const s = schedulerFor(SPEC_CONFIGS['llm-d-router HEAD P/D (example C)']!)
  const prompt = 'z'.repeat(400) // 100 tokens; 6 blocks of 16 tokens
  it('disaggregates a cold prompt and writes the header', () => {
    const r = run(s, makeRequest({ prompt }))
    expect(r).toEqual({ profiles: ['decode', 'prefill'], headers: { 'x-prefiller-host-port': '127.0.0.1:8100' }, primary: 'decode' })
  })
  it('keeps a mostly cached prompt on decode: 100 − 6·16 = 4 < 16 uncached tokens', () => {
    expect(run(s, makeRequest({ prompt })).profiles).toEqual(['decode'])
  })
  it('nonCachedTokens 0 never disaggregates; promptTokens skips short prompts', () => {
    const yaml = (params: string) => `
plugins:
- {type: prefill-filter}
- {type: decode-filter}
- {type: prefix-based-pd-decider, parameters: ${params}}
- {type: disagg-profile-handler, parameters: {deciders: {prefill: prefix-based-pd-decider}}}
schedulingProfiles:
- {name: prefill, plugins: [{pluginRef: prefill-filter}]}
- {name: decode, plugins: [{pluginRef: decode-filter}]}`
    expect(run(schedulerFor(yaml('{nonCachedTokens: 0}')), makeRequest({ prompt })).profiles).toEqual(['decode'])
    expect(run(schedulerFor(yaml('{nonCachedTokens: 1, promptTokens: 500}')), makeRequest({ prompt })).profiles).toEqual(['decode'])
    expect(run(schedulerFor(yaml('{nonCachedTokens: 1, promptTokens: 50}')), makeRequest({ prompt })).profiles).toEqual(['decode', 'prefill'])
  })
})

describe('disagg-profile-handler (KServe preset with always-disagg-pd-decider)', () => {
  it('always runs prefill and sets the header through disagg-headers-handler', () => {
    const s = schedulerFor(SPEC_CONFIGS['KServe default (with prefill)']!)
    for (let i = 0; i < 2; i++) {
      expect(run(s, makeRequest({ prompt: 'q'.repeat(500) }))).toMatchObject({ profiles: ['decode', 'prefill'], headers: { 'x-prefiller-host-port': '127.0.0.1:8100' } })
    }
  })
  it('runs the encode stage for multimodal requests and lists the encoders', () => {
    const s = schedulerFor(`
plugins:
- {type: encode-filter}
- {type: decode-filter}
- {type: always-disagg-multimodal-decider}
- {type: disagg-profile-handler, parameters: {deciders: {encode: always-disagg-multimodal-decider}}}
schedulingProfiles:
- {name: encode, plugins: [{pluginRef: encode-filter}]}
- {name: decode, plugins: [{pluginRef: decode-filter}]}`)
    const text = makeRequest({ body: { model: 'm', messages: [{ role: 'user', content: 'hi' }] } })
    expect(run(s, text).profiles).toEqual(['decode'])
    const image = makeRequest({ body: { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] } })
    expect(run(s, image)).toMatchObject({ profiles: ['decode', 'encode'], headers: { 'x-encoder-hosts-ports': '127.0.0.1:8300' } })
  })
})
