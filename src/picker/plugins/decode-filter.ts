import { z } from 'zod'
import type { PluginDefinition } from '../framework/registry.js'
import type { Filter } from '../framework/types.js'
import { roleStages } from './roles.js'

/** Keeps endpoints whose `llm-d.ai/role` includes decode (`decode`, `both`, `prefill-decode`, …) and those without the label. */
export const decodeFilter: PluginDefinition<Record<string, never>> = {
  type: 'decode-filter',
  parameters: z.strictObject({}),
  kinds: ['filter'],
  create: (name): Filter => ({
    type: 'decode-filter',
    name,
    filter: (_cycle, _request, endpoints) => endpoints.filter((e) => roleStages(e)?.has('decode') ?? true),
  }),
}
