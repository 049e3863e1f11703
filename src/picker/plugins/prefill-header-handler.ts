import { z } from 'zod'
import type { PluginDefinition } from '../framework/registry.js'
import type { PreRequest } from '../framework/types.js'
import { PREFILLER_HEADER } from './pd-headers.js'

/** llm-d v0.3–v0.5: removes any client-sent `x-prefiller-host-port`, and sets it to the prefill pick when prefill ran. */
export const prefillHeaderHandler: PluginDefinition<{ prefillProfile: string }> = {
  type: 'prefill-header-handler',
  parameters: z.strictObject({ prefillProfile: z.string().min(1).default('prefill') }),
  kinds: ['pre-request'],
  create: (name, p): PreRequest => ({
    type: 'prefill-header-handler',
    name,
    preRequest: (_cycle, _request, result, mutations) => {
      mutations.removeHeaders.add(PREFILLER_HEADER)
      const prefill = result.profileResults.get(p.prefillProfile)?.targets[0]
      if (prefill) mutations.headers[PREFILLER_HEADER] = prefill.ref.address
    },
  }),
}
