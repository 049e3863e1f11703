import { z } from 'zod'
import type { PluginDefinition } from '../framework/registry.js'
import type { PdDecider } from '../framework/types.js'

/** llm-d: always run the prefill stage. */
export const alwaysDisaggPdDecider: PluginDefinition<Record<string, never>> = {
  type: 'always-disagg-pd-decider',
  parameters: z.strictObject({}),
  kinds: ['pd-decider'],
  create: (name): PdDecider => ({ type: 'always-disagg-pd-decider', name, disaggregate: () => true }),
}
