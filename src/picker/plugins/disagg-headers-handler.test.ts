import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { PreRequest } from '../framework/types.js'
import { createPlugin, emptyMutations, makeEndpoint, makeRequest, resultFor } from './contract/fixtures.js'
import { disaggHeadersHandler } from './disagg-headers-handler.js'

describe('disagg-headers-handler', () => {
  it('writes the prefiller and the encoder list, and removes client copies', () => {
    const m = emptyMutations()
    const result = resultFor([makeEndpoint('d', {}, { port: 1 })], { prefill: [makeEndpoint('p', {}, { port: 2 })], encode: [makeEndpoint('e1', {}, { port: 3 }), makeEndpoint('e2', {}, { port: 4 })] }, 'decode')
    createPlugin<PreRequest>(disaggHeadersHandler).preRequest(new CycleState(), makeRequest(), result, m)
    expect(m.headers).toEqual({ 'x-prefiller-host-port': '127.0.0.1:2', 'x-encoder-hosts-ports': '127.0.0.1:3,127.0.0.1:4' })
    expect([...m.removeHeaders].sort()).toEqual(['x-encoder-hosts-ports', 'x-prefiller-host-port'])
  })
})
