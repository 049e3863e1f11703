import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { Picker } from '../framework/types.js'
import { createPlugin, makeEndpoint, makeRequest, seededRandom } from './contract/fixtures.js'
import { pickerContract } from './contract/picker-contract.js'
import { randomPicker } from './random-picker.js'

pickerContract((n) => createPlugin(randomPicker, { maxNumOfEndpoints: n }))

describe('random-picker', () => {
  it('ignores scores and picks uniformly', () => {
    const scored = ['a', 'b', 'c'].map((n, i) => ({ endpoint: makeEndpoint(n), score: i === 0 ? 100 : 0 }))
    const counts = new Map<string, number>()
    const random = seededRandom(5)
    const picker = createPlugin<Picker>(randomPicker)
    for (let i = 0; i < 3000; i++) {
      const name = picker.pick(new CycleState(), makeRequest({ random }), scored)[0]!.ref.name
      counts.set(name, (counts.get(name) ?? 0) + 1)
    }
    for (const n of ['a', 'b', 'c']) expect(counts.get(n)).toBeGreaterThan(850)
  })
})
