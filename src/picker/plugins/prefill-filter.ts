import { z } from 'zod'
import type { PluginDefinition } from '../framework/registry.js'
import type { Filter } from '../framework/types.js'
import { roleStages } from './roles.js'

/** Keeps endpoints whose `llm-d.ai/role` includes prefill; endpoints without the label are dropped. */
export const prefillFilter: PluginDefinition<Record<string, never>> = {
  type: 'prefill-filter',
  parameters: z.strictObject({}),
  kinds: ['filter'],
  create: (name): Filter => ({
    type: 'prefill-filter',
    name,
    filter: (_cycle, _request, endpoints) => endpoints.filter((e) => roleStages(e)?.has('prefill') ?? false),
  }),
}
