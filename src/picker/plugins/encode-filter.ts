import { z } from 'zod'
import type { PluginDefinition } from '../framework/registry.js'
import type { Filter } from '../framework/types.js'
import { roleStages } from './roles.js'

/** llm-d HEAD: keeps endpoints whose `llm-d.ai/role` includes encode. */
export const encodeFilter: PluginDefinition<Record<string, never>> = {
  type: 'encode-filter',
  parameters: z.strictObject({}),
  kinds: ['filter'],
  create: (name): Filter => ({
    type: 'encode-filter',
    name,
    filter: (_cycle, _request, endpoints) => endpoints.filter((e) => roleStages(e)?.has('encode') ?? false),
  }),
}
