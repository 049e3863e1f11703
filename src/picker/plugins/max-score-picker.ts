import type { PluginDefinition } from '../framework/registry.js'
import type { Endpoint, Picker } from '../framework/types.js'
import { pickerParameters, randomSample, type PickerParams } from './picker-params.js'

/**
 * The default picker: highest total score first, ties broken at random (GIE shuffles, then sorts).
 * With `maxNumOfEndpoints` > 1 the next best become the fallback list.
 */
export const maxScorePicker: PluginDefinition<PickerParams> = {
  type: 'max-score-picker',
  parameters: pickerParameters,
  kinds: ['picker'],
  create: (name, { maxNumOfEndpoints }): Picker => ({
    type: 'max-score-picker',
    name,
    pick: (_cycle, request, scored) => {
      if (maxNumOfEndpoints === 1) {
        // One pass with reservoir sampling among ties: same distribution as shuffle+sort, O(n).
        let best: Endpoint | undefined
        let bestScore = -Infinity
        let ties = 0
        for (const { endpoint, score } of scored) {
          if (score > bestScore) {
            best = endpoint
            bestScore = score
            ties = 1
          } else if (score === bestScore && request.random() * ++ties < 1) {
            best = endpoint
          }
        }
        return best ? [best] : []
      }
      // Array.prototype.sort is stable, so shuffling first makes ties random.
      return randomSample(scored, scored.length, request.random)
        .sort((a, b) => b.score - a.score)
        .slice(0, maxNumOfEndpoints)
        .map((s) => s.endpoint)
    },
  }),
}
