import { z } from 'zod'
import { readPrefixMatch } from '../datalayer/approx-prefix-indexer.js'
import type { PluginDefinition } from '../framework/registry.js'
import type { PreRequest, Scorer } from '../framework/types.js'

const parameters = z.strictObject({
  prefixPluginType: z.string().min(1).optional(),
  prefixPluginName: z.string().min(1).optional(),
  lruSize: z.number().int().positive().default(1024),
})
type Params = z.infer<typeof parameters>

const COLD_KEY = 'no-hit-lru/cold'

/**
 * llm-d ≥ v0.4: spreads cold requests (no prefix hit anywhere) over the endpoints that have gone longest
 * without one. Warm request → 0.5 for all. Cold → `1 − rank/(N−1)`: never-used endpoints rank first, then
 * the used ones least-recently-used first. Only cold requests update the LRU.
 */
export const noHitLruScorer: PluginDefinition<Params> = {
  type: 'no-hit-lru-scorer',
  parameters,
  kinds: ['scorer', 'pre-request'],
  references: (p) => (p.prefixPluginName ? [{ path: 'prefixPluginName', name: p.prefixPluginName, kind: 'data-producer' }] : []),
  create: (name, p): Scorer & PreRequest & { endpointRemoved(id: string): void } => {
    const lru = new Map<string, true>() // oldest first
    return {
      type: 'no-hit-lru-scorer',
      name,
      score: (cycle, _request, endpoints) => {
        const info = readPrefixMatch(cycle, p.prefixPluginName) ?? readPrefixMatch(cycle)
        const warm = info !== undefined && endpoints.some((e) => (info.matchedBlocks.get(e.ref.id) ?? 0) > 0)
        cycle.write(COLD_KEY, !warm)
        if (warm) return new Map(endpoints.map((e) => [e, 0.5]))
        const unused = endpoints.filter((e) => !lru.has(e.ref.id))
        const byId = new Map(endpoints.map((e) => [e.ref.id, e]))
        const used = [...lru.keys()].flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []))
        const ranked = [...unused, ...used]
        const n = ranked.length
        return new Map(ranked.map((e, rank) => [e, n <= 1 ? 1 : 1 - rank / (n - 1)]))
      },
      preRequest: (cycle, _request, result) => {
        const target = result.profileResults.get(result.primaryProfile)?.targets[0]
        if (!target || cycle.read<boolean>(COLD_KEY) !== true) return
        lru.delete(target.ref.id)
        lru.set(target.ref.id, true)
        if (lru.size > p.lruSize) lru.delete(lru.keys().next().value as string)
      },
      endpointRemoved: (id) => void lru.delete(id),
    }
  },
}
