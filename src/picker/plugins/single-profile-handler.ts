import { z } from 'zod'
import { PickerError } from '../endpoint-picker.js'
import type { PluginDefinition } from '../framework/registry.js'
import type { ProfileHandler } from '../framework/types.js'

/** Runs the only profile, which is also the primary. A profile whose filters leave nothing is a 429 (HEAD: rejected-saturated). */
export const singleProfileHandler: PluginDefinition<Record<string, never>> = {
  type: 'single-profile-handler',
  parameters: z.strictObject({}),
  kinds: ['profile-handler'],
  check: (_p, { profileNames }) =>
    profileNames.length === 1 ? [] : [{ path: '', message: `needs exactly one scheduling profile, the config has ${profileNames.length}` }],
  create: (name): ProfileHandler => ({
    type: 'single-profile-handler',
    name,
    pickProfiles: (_cycle, _request, profiles, results) => {
      const only = results.size > 0 ? undefined : profiles.values().next().value
      return only ? [only] : []
    },
    processResults: (_cycle, _request, results) => {
      const [profile, run] = results.entries().next().value ?? []
      if (!profile || !run) throw new PickerError(429, `no endpoint passed the filters of profile ${profile ?? '?'}`, 'rejected-saturated')
      return { primaryProfile: profile, profileResults: results }
    },
  }),
}
