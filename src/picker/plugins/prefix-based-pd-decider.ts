import { z } from 'zod'
import { readPrefixMatch } from '../datalayer/approx-prefix-indexer.js'
import type { PluginDefinition } from '../framework/registry.js'
import type { PdDecider } from '../framework/types.js'

const parameters = z.strictObject({
  nonCachedTokens: z.number().int().nonnegative().default(0),
  promptTokens: z.number().int().nonnegative().default(0),
})

/**
 * llm-d v0.6+: disaggregate when `inputTokens − cachedBlocks·blockSizeTokens ≥ nonCachedTokens`, the cached
 * blocks being those of the chosen decode endpoint. `nonCachedTokens: 0` never disaggregates; prompts shorter
 * than `promptTokens` never do.
 */
export const prefixBasedPdDecider: PluginDefinition<z.infer<typeof parameters>> = {
  type: 'prefix-based-pd-decider',
  parameters,
  kinds: ['pd-decider'],
  create: (name, p): PdDecider => ({
    type: 'prefix-based-pd-decider',
    name,
    disaggregate: (cycle, request, decode) => {
      if (p.nonCachedTokens === 0) return false
      if (request.inputTokens < p.promptTokens) return false
      const info = readPrefixMatch(cycle)
      const cachedTokens = info ? (info.matchedBlocks.get(decode.ref.id) ?? 0) * info.blockSizeTokens : 0
      return request.inputTokens - cachedTokens >= p.nonCachedTokens
    },
  }),
}
