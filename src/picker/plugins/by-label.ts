import { z } from 'zod'
import type { PluginDefinition } from '../framework/registry.js'
import type { Filter } from '../framework/types.js'

const parameters = z.strictObject({
  label: z.string().min(1),
  validValues: z.array(z.string()).min(1),
  allowsNoLabel: z.boolean().default(false),
})

/** llm-d `by-label` (deprecated at HEAD): exact match of one label against a list of values. */
export const byLabel: PluginDefinition<z.infer<typeof parameters>> = {
  type: 'by-label',
  parameters,
  kinds: ['filter'],
  create: (name, p): Filter => ({
    type: 'by-label',
    name,
    filter: (_cycle, _request, endpoints) =>
      endpoints.filter((e) => {
        const v = e.ref.labels[p.label]
        return v === undefined ? p.allowsNoLabel : p.validValues.includes(v)
      }),
  }),
}
