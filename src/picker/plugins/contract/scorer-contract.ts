import { describe, expect, it } from 'vitest'
import { CycleState } from '../../framework/cycle-state.js'
import type { Endpoint, Scorer, SchedulingRequest } from '../../framework/types.js'
import { makeEndpoint, makeRequest, variedEndpoints } from './fixtures.js'

/**
 * What every scorer must do: a finite score in [0,1] for every candidate and no other endpoint, the same
 * scores for the same input, and no mutation of the snapshot. `prepare` runs producers the scorer reads.
 */
export function scorerContract(make: () => Scorer, prepare: (cycle: CycleState, req: SchedulingRequest, eps: readonly Endpoint[]) => void = () => {}) {
  describe(`scorer contract: ${make().type}`, () => {
    const run = (eps: readonly Endpoint[], req = makeRequest()) => {
      const cycle = new CycleState()
      prepare(cycle, req, eps)
      return make().score(cycle, req, eps)
    }
    it('scores every candidate in [0,1] and nothing else', () => {
      const eps = variedEndpoints()
      const scores = run(eps)
      expect([...scores.keys()].every((e) => eps.includes(e))).toBe(true)
      for (const e of eps) {
        const s = scores.get(e)
        expect(s, e.ref.id).toBeTypeOf('number')
        expect(Number.isFinite(s)).toBe(true)
        expect(s).toBeGreaterThanOrEqual(0)
        expect(s).toBeLessThanOrEqual(1)
      }
    })
    it('is deterministic and leaves the snapshot untouched', () => {
      const eps = variedEndpoints()
      const before = JSON.stringify(eps)
      const a = [...run(eps).values()]
      const b = [...run(eps).values()]
      expect(a).toEqual(b)
      expect(JSON.stringify(eps)).toBe(before)
    })
    it('handles a single candidate and an empty list', () => {
      expect(run([]).size).toBe(0)
      const one = [makeEndpoint('solo')]
      expect(run(one).has(one[0]!)).toBe(true)
    })
  })
}
