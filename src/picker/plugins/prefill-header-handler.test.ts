import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { PreRequest } from '../framework/types.js'
import { createPlugin, emptyMutations, makeEndpoint, makeRequest, resultFor } from './contract/fixtures.js'
import { prefillHeaderHandler } from './prefill-header-handler.js'

describe('prefill-header-handler', () => {
  const decode = makeEndpoint('d', {}, { port: 8200 })
  const prefill = makeEndpoint('p', {}, { port: 8100 })
  it('sets x-prefiller-host-port to the prefill pick and drops a client-sent one', () => {
    const m = emptyMutations()
    createPlugin<PreRequest>(prefillHeaderHandler).preRequest(new CycleState(), makeRequest(), resultFor([decode], { prefill: [prefill] }, 'decode'), m)
    expect(m.headers).toEqual({ 'x-prefiller-host-port': '127.0.0.1:8100' })
    expect([...m.removeHeaders]).toEqual(['x-prefiller-host-port'])
  })
  it('sets nothing when prefill did not run', () => {
    const m = emptyMutations()
    createPlugin<PreRequest>(prefillHeaderHandler).preRequest(new CycleState(), makeRequest(), resultFor([decode], {}, 'decode'), m)
    expect(m.headers).toEqual({})
    expect(m.removeHeaders.has('x-prefiller-host-port')).toBe(true)
  })
})
