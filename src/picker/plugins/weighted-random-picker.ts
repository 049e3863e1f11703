import type { PluginDefinition } from '../framework/registry.js'
import type { Picker } from '../framework/types.js'
import { pickerParameters, randomSample, type PickerParams } from './picker-params.js'

/**
 * Weighted sampling without replacement (A-Res, Efraimidis–Spirakis): key `U^(1/score)`, highest keys win.
 * Endpoints scoring ≤ 0 are never chosen unless all do, in which case the choice is uniform.
 */
export const weightedRandomPicker: PluginDefinition<PickerParams> = {
  type: 'weighted-random-picker',
  parameters: pickerParameters,
  kinds: ['picker'],
  create: (name, { maxNumOfEndpoints }): Picker => ({
    type: 'weighted-random-picker',
    name,
    pick: (_cycle, request, scored) => {
      const positive = scored.filter((s) => s.score > 0)
      if (positive.length === 0) return randomSample(scored, maxNumOfEndpoints, request.random).map((s) => s.endpoint)
      return positive
        .map((s) => ({ endpoint: s.endpoint, key: request.random() ** (1 / s.score) }))
        .sort((a, b) => b.key - a.key)
        .slice(0, maxNumOfEndpoints)
        .map((s) => s.endpoint)
    },
  }),
}
