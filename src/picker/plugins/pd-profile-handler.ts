import { z } from 'zod'
import { readPrefixMatch } from '../datalayer/approx-prefix-indexer.js'
import { PickerError } from '../endpoint-picker.js'
import type { CycleState } from '../framework/cycle-state.js'
import type { PluginContext, PluginDefinition } from '../framework/registry.js'
import { isPdDecider, type Endpoint, type ProfileHandler, type ProfileRunResult, type SchedulingRequest } from '../framework/types.js'
import { withPort } from './primary-port.js'

const parameters = z.strictObject({
  threshold: z.number().int().nonnegative().optional(),
  hashBlockSize: z.number().int().positive().optional(),
  decodeProfile: z.string().min(1).default('decode'),
  prefillProfile: z.string().min(1).default('prefill'),
  prefixPluginName: z.string().min(1).default('prefix-cache-scorer'),
  deciderPluginName: z.string().min(1).optional(),
  /** Deprecated at HEAD ("not needed with Istio >= 1.28.1"): send decode traffic to this port (the sidecar's). */
  primaryPort: z.number().int().min(1).max(65535).optional(),
})
type Params = z.infer<typeof parameters>

/**
 * llm-d's P/D handler: decode runs first; then prefill, unless skipped. v0.3–v0.5 rule (`threshold`): skip when
 * the uncached part of the prompt, in chars, `(1 − hit·hashBlockSize/len)·len`, is below `threshold` (0 = always
 * prefill). v0.6+ rule: ask the `deciderPluginName` decider. The primary profile is always decode.
 */
export const pdProfileHandler: PluginDefinition<Params> = {
  type: 'pd-profile-handler',
  parameters,
  kinds: ['profile-handler'],
  references: (p) => (p.deciderPluginName ? [{ path: 'deciderPluginName', name: p.deciderPluginName, kind: 'pd-decider' }] : []),
  check: (p, { profileNames }) =>
    (['decodeProfile', 'prefillProfile'] as const).flatMap((key) =>
      profileNames.includes(p[key]) ? [] : [{ path: key, message: `no scheduling profile named ${JSON.stringify(p[key])}` }],
    ),
  create: (name, p, ctx): ProfileHandler => ({
    type: 'pd-profile-handler',
    name,
    pickProfiles: (cycle, request, profiles, results) => {
      if (!results.has(p.decodeProfile)) return [profiles.get(p.decodeProfile)!]
      const decode = results.get(p.decodeProfile)?.targets[0]
      if (!decode || results.has(p.prefillProfile)) return []
      return prefillNeeded(p, ctx, cycle, request, decode) ? [profiles.get(p.prefillProfile)!] : []
    },
    processResults: (_cycle, _request, results) => {
      const decode = results.get(p.decodeProfile)
      if (!decode) throw new PickerError(429, 'failed to find available decode workers', 'rejected-saturated')
      const profileResults = new Map<string, ProfileRunResult | undefined>(results)
      if (p.primaryPort) profileResults.set(p.decodeProfile, { targets: decode.targets.map((e) => withPort(e, p.primaryPort!)) })
      // The prefill result is reported only if prefill ran and found an endpoint.
      if (!results.get(p.prefillProfile)) profileResults.delete(p.prefillProfile)
      return { primaryProfile: p.decodeProfile, profileResults }
    },
  }),
}

function prefillNeeded(p: Params, ctx: PluginContext, cycle: CycleState, request: SchedulingRequest, decode: Endpoint): boolean {
  if (p.deciderPluginName) {
    const decider = ctx.plugin(p.deciderPluginName)
    return decider !== undefined && isPdDecider(decider) && decider.disaggregate(cycle, request, decode)
  }
  const threshold = p.threshold ?? 0
  if (threshold === 0) return true
  const info = readPrefixMatch(cycle, p.prefixPluginName) ?? readPrefixMatch(cycle)
  const length = request.promptLength
  if (!info || length === 0) return true
  // v0.3 subtracted one hit for the model-name block; our chain is seeded with the model instead, so every hit is prompt.
  const hit = info.matchedBlocks.get(decode.ref.id) ?? 0
  const hitPct = (hit * (p.hashBlockSize ?? info.blockSizeChars)) / length
  return (1 - hitPct) * length >= threshold
}
