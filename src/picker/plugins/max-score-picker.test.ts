import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { Picker } from '../framework/types.js'
import { createPlugin, makeEndpoint, makeRequest, seededRandom } from './contract/fixtures.js'
import { pickerContract } from './contract/picker-contract.js'
import { maxScorePicker } from './max-score-picker.js'

pickerContract((n) => createPlugin(maxScorePicker, { maxNumOfEndpoints: n }))

describe('max-score-picker', () => {
  const eps = ['a', 'b', 'c', 'd'].map((n) => makeEndpoint(n))
  it('picks the highest score, then the next best as fallbacks', () => {
    const scored = eps.map((endpoint, i) => ({ endpoint, score: [1, 3, 2, 0][i]! }))
    const picked = createPlugin<Picker>(maxScorePicker, { maxNumOfEndpoints: 3 }).pick(new CycleState(), makeRequest(), scored)
    expect(picked.map((e) => e.ref.name)).toEqual(['b', 'c', 'a'])
    expect(createPlugin<Picker>(maxScorePicker).pick(new CycleState(), makeRequest(), scored).map((e) => e.ref.name)).toEqual(['b'])
  })
  it.each([1, 2])('breaks ties at random (maxNumOfEndpoints=%i)', (n) => {
    const scored = eps.map((endpoint, i) => ({ endpoint, score: i < 3 ? 5 : 1 }))
    const firsts = new Map<string, number>()
    const random = seededRandom(11)
    for (let i = 0; i < 3000; i++) {
      const first = createPlugin<Picker>(maxScorePicker, { maxNumOfEndpoints: n }).pick(new CycleState(), makeRequest({ random }), scored)[0]!
      firsts.set(first.ref.name, (firsts.get(first.ref.name) ?? 0) + 1)
    }
    expect(firsts.has('d')).toBe(false)
    for (const name of ['a', 'b', 'c']) expect(firsts.get(name)).toBeGreaterThan(850)
  })
})
