import { describe, expect, it } from 'vitest'
import { CycleState } from '../../framework/cycle-state.js'
import type { Endpoint, Filter, SchedulingRequest } from '../../framework/types.js'
import { makeRequest, variedEndpoints } from './fixtures.js'

/** What every filter must do: return a subset of its input, in input order, without duplicates or mutation. */
export function filterContract(make: () => Filter, prepare: (cycle: CycleState, req: SchedulingRequest, eps: readonly Endpoint[]) => void = () => {}) {
  describe(`filter contract: ${make().type}`, () => {
    it('returns an ordered subset of the candidates', () => {
      const eps = variedEndpoints()
      const before = JSON.stringify(eps)
      const req = makeRequest()
      const cycle = new CycleState()
      prepare(cycle, req, eps)
      const kept = make().filter(cycle, req, eps)
      expect(kept.every((e) => eps.includes(e))).toBe(true)
      expect(new Set(kept).size).toBe(kept.length)
      const positions = kept.map((e) => eps.indexOf(e))
      expect(positions).toEqual([...positions].sort((a, b) => a - b))
      expect(JSON.stringify(eps)).toBe(before)
    })
    it('returns nothing for nothing', () => {
      expect(make().filter(new CycleState(), makeRequest(), [])).toEqual([])
    })
  })
}
