import type { PluginDefinition } from '../framework/registry.js'
import type { Picker } from '../framework/types.js'
import { pickerParameters, randomSample, type PickerParams } from './picker-params.js'

/** Uniformly random endpoints, scores ignored. */
export const randomPicker: PluginDefinition<PickerParams> = {
  type: 'random-picker',
  parameters: pickerParameters,
  kinds: ['picker'],
  create: (name, { maxNumOfEndpoints }): Picker => ({
    type: 'random-picker',
    name,
    pick: (_cycle, request, scored) => randomSample(scored, maxNumOfEndpoints, request.random).map((s) => s.endpoint),
  }),
}
