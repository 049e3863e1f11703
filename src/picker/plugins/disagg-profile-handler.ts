import { z } from 'zod'
import { PickerError } from '../endpoint-picker.js'
import type { PluginDefinition } from '../framework/registry.js'
import { isPdDecider, type PreRequest, type ProfileHandler, type ProfileRunResult } from '../framework/types.js'
import { disaggHeadersHandler } from './disagg-headers-handler.js'

const parameters = z.strictObject({
  profiles: z
    .strictObject({
      decode: z.string().min(1).default('decode'),
      prefill: z.string().min(1).default('prefill'),
      encode: z.string().min(1).default('encode'),
    })
    .default({ decode: 'decode', prefill: 'prefill', encode: 'encode' }),
  deciders: z.strictObject({ prefill: z.string().min(1).optional(), encode: z.string().min(1).optional() }).default({}),
})
type Params = z.infer<typeof parameters>

/**
 * llm-d HEAD: decode always runs; encode and prefill run when their profile exists and their decider approves
 * (a stage with a profile but no decider always runs). Also the PreRequest that writes `x-prefiller-host-port`
 * and `x-encoder-hosts-ports` (and removes client-sent copies).
 */
export const disaggProfileHandler: PluginDefinition<Params> = {
  type: 'disagg-profile-handler',
  parameters,
  kinds: ['profile-handler', 'pre-request'],
  references: (p) =>
    (['prefill', 'encode'] as const).flatMap((stage) => {
      const ref = p.deciders[stage]
      return ref ? [{ path: `deciders.${stage}`, name: ref, kind: 'pd-decider' as const }] : []
    }),
  check: (p, { profileNames }) =>
    profileNames.includes(p.profiles.decode) ? [] : [{ path: 'profiles.decode', message: `no scheduling profile named ${JSON.stringify(p.profiles.decode)}` }],
  create: (name, p, ctx): ProfileHandler & PreRequest => {
    const headers = disaggHeadersHandler.create(name, { prefillProfile: p.profiles.prefill, encodeProfile: p.profiles.encode }, ctx) as PreRequest
    return {
      type: 'disagg-profile-handler',
      name,
      pickProfiles: (cycle, request, profiles, results) => {
        if (!results.has(p.profiles.decode)) return [profiles.get(p.profiles.decode)!]
        const decode = results.get(p.profiles.decode)?.targets[0]
        if (!decode) return []
        return (['encode', 'prefill'] as const).flatMap((stage) => {
          const profile = profiles.get(p.profiles[stage])
          if (!profile || results.has(profile.name)) return []
          const deciderName = p.deciders[stage]
          const decider = deciderName === undefined ? undefined : ctx.plugin(deciderName)
          const approve = decider === undefined ? deciderName === undefined : isPdDecider(decider) && decider.disaggregate(cycle, request, decode)
          return approve ? [profile] : []
        })
      },
      processResults: (_cycle, _request, results) => {
        if (!results.get(p.profiles.decode)) throw new PickerError(429, 'failed to find available decode workers', 'rejected-saturated')
        const profileResults = new Map<string, ProfileRunResult | undefined>([...results].filter(([, run]) => run !== undefined))
        return { primaryProfile: p.profiles.decode, profileResults }
      },
      preRequest: headers.preRequest,
    }
  },
}
