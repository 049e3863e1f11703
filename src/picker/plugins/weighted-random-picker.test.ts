import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { Picker } from '../framework/types.js'
import { createPlugin, makeEndpoint, makeRequest, seededRandom } from './contract/fixtures.js'
import { pickerContract } from './contract/picker-contract.js'
import { weightedRandomPicker } from './weighted-random-picker.js'

pickerContract((n) => createPlugin(weightedRandomPicker, { maxNumOfEndpoints: n }))

describe('weighted-random-picker', () => {
  const count = (scores: number[], draws = 4000) => {
    const scored = scores.map((score, i) => ({ endpoint: makeEndpoint(`p${i}`), score }))
    const random = seededRandom(9)
    const picker = createPlugin<Picker>(weightedRandomPicker)
    const counts = scores.map(() => 0)
    for (let i = 0; i < draws; i++) counts[Number(picker.pick(new CycleState(), makeRequest({ random }), scored)[0]!.ref.name.slice(1))]!++
    return counts
  }
  it('picks in proportion to score and never a zero score', () => {
    const [a, b, c] = count([3, 1, 0])
    expect(c).toBe(0)
    expect(a! / b!).toBeGreaterThan(2.5)
    expect(a! / b!).toBeLessThan(3.5)
  })
  it('falls back to uniform when all scores are ≤ 0', () => {
    for (const n of count([0, 0, 0])) expect(n).toBeGreaterThan(1100)
  })
})
