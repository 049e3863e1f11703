import { z } from 'zod'
import type { PluginDefinition } from '../framework/registry.js'
import type { Filter } from '../framework/types.js'

const requirement = z.strictObject({
  key: z.string().min(1),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: z.array(z.string()).optional(),
})
const parameters = z
  .strictObject({
    matchLabels: z.record(z.string(), z.string()).optional(),
    matchExpressions: z.array(requirement).optional(),
  })
  .superRefine((p, ctx) => {
    p.matchExpressions?.forEach((r, i) => {
      const needsValues = r.operator === 'In' || r.operator === 'NotIn'
      if (needsValues !== (r.values !== undefined && r.values.length > 0)) {
        ctx.addIssue({ code: 'custom', path: ['matchExpressions', i, 'values'], message: needsValues ? `${r.operator} needs values` : `${r.operator} takes no values` })
      }
    })
  })
type Params = z.infer<typeof parameters>

/** A Kubernetes label selector over the endpoints' labels (`matchLabels` ANDed with `matchExpressions`). */
export function matchesSelector(labels: Readonly<Record<string, string>>, p: Params): boolean {
  for (const [k, v] of Object.entries(p.matchLabels ?? {})) if (labels[k] !== v) return false
  for (const r of p.matchExpressions ?? []) {
    const v = labels[r.key]
    const ok =
      r.operator === 'Exists' ? v !== undefined
      : r.operator === 'DoesNotExist' ? v === undefined
      : r.operator === 'In' ? v !== undefined && r.values!.includes(v)
      : v === undefined || !r.values!.includes(v)
    if (!ok) return false
  }
  return true
}

/** llm-d `label-selector-filter` (v0.3 `by-label-selector`): keeps endpoints matching the selector. */
export const labelSelectorFilter: PluginDefinition<Params> = {
  type: 'label-selector-filter',
  aliases: ['by-label-selector'],
  parameters,
  kinds: ['filter'],
  create: (name, p): Filter => ({
    type: 'label-selector-filter',
    name,
    filter: (_cycle, _request, endpoints) => endpoints.filter((e) => matchesSelector(e.ref.labels, p)),
  }),
}
