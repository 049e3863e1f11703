import { describe, expect, it } from 'vitest'
import { CycleState } from '../../framework/cycle-state.js'
import type { Picker } from '../../framework/types.js'
import { makeRequest, seededRandom, variedEndpoints } from './fixtures.js'

/** What every picker must do: distinct candidates, at most `maxNumOfEndpoints`, at least one when there are candidates. */
export function pickerContract(make: (maxNumOfEndpoints: number) => Picker) {
  describe(`picker contract: ${make(1).type}`, () => {
    const scored = variedEndpoints().map((endpoint, i) => ({ endpoint, score: [2.5, 0.5, 4, 0][i]! }))
    it.each([1, 2, 4, 9])('returns between 1 and min(n=%i, candidates) distinct candidates', (n) => {
      for (let seed = 1; seed < 20; seed++) {
        const picked = make(n).pick(new CycleState(), makeRequest({ random: seededRandom(seed) }), scored)
        expect(picked.length).toBeGreaterThanOrEqual(1)
        expect(picked.length).toBeLessThanOrEqual(Math.min(n, scored.length))
        expect(new Set(picked).size).toBe(picked.length)
        expect(picked.every((e) => scored.some((s) => s.endpoint === e))).toBe(true)
      }
    })
    it('returns nothing for no candidates', () => {
      expect(make(1).pick(new CycleState(), makeRequest(), [])).toEqual([])
    })
  })
}
