import { describe, expect, it } from 'vitest'
import { CycleState } from '../../framework/cycle-state.js'
import type { PdDecider } from '../../framework/types.js'
import { makeRequest, variedEndpoints } from './fixtures.js'

/** What every P/D decider must do: answer a boolean for any decode pick, the same for the same input, without side effects. */
export function deciderContract(make: () => PdDecider) {
  describe(`decider contract: ${make().type}`, () => {
    it('answers a stable boolean for every decode candidate, with or without prefix info', () => {
      for (const decode of variedEndpoints()) {
        const a = make().disaggregate(new CycleState(), makeRequest(), decode)
        expect(typeof a).toBe('boolean')
        expect(make().disaggregate(new CycleState(), makeRequest(), decode)).toBe(a)
      }
    })
  })
}
