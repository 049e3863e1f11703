import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { Scorer } from '../framework/types.js'
import { createPlugin, makeEndpoint, makeRequest } from './contract/fixtures.js'
import { scorerContract } from './contract/scorer-contract.js'
import { loraAffinityScorer } from './lora-affinity-scorer.js'

scorerContract(() => createPlugin(loraAffinityScorer))

describe('lora-affinity-scorer', () => {
  it('1.0 active, 0.8 room to load, 0.6 waiting, 0 otherwise', () => {
    const eps = [
      makeEndpoint('active', { activeModels: ['sql'], waitingModels: [], maxActiveModels: 1 }),
      makeEndpoint('room', { activeModels: ['x'], waitingModels: [], maxActiveModels: 2 }),
      makeEndpoint('waiting', { activeModels: ['x'], waitingModels: ['sql'], maxActiveModels: 2 }),
      makeEndpoint('full', { activeModels: ['x', 'y'], waitingModels: [], maxActiveModels: 2 }),
    ]
    const s = createPlugin<Scorer>(loraAffinityScorer).score(new CycleState(), makeRequest({ targetModel: 'sql' }), eps)
    expect(eps.map((e) => s.get(e))).toEqual([1, 0.8, 0.6, 0])
  })
})
