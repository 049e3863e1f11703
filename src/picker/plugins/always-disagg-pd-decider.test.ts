import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { PdDecider } from '../framework/types.js'
import { alwaysDisaggPdDecider } from './always-disagg-pd-decider.js'
import { createPlugin, makeEndpoint, makeRequest } from './contract/fixtures.js'
import { deciderContract } from './contract/decider-contract.js'

deciderContract(() => createPlugin(alwaysDisaggPdDecider))

describe('always-disagg-pd-decider', () => {
  it('always approves', () => {
    expect(createPlugin<PdDecider>(alwaysDisaggPdDecider).disaggregate(new CycleState(), makeRequest({ prompt: '' }), makeEndpoint('d'))).toBe(true)
  })
})
