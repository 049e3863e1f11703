import { z } from 'zod'
import type { PluginDefinition } from '../framework/registry.js'
import type { PreRequest } from '../framework/types.js'
import { ENCODERS_HEADER, PREFILLER_HEADER } from './pd-headers.js'

const parameters = z.strictObject({
  prefillProfile: z.string().min(1).default('prefill'),
  encodeProfile: z.string().min(1).default('encode'),
})

/**
 * llm-d (deprecated; KServe's P/D preset still lists it): like prefill-header-handler, and also
 * `x-encoder-hosts-ports` with every encode pick. Client-sent copies of both headers are removed.
 */
export const disaggHeadersHandler: PluginDefinition<z.infer<typeof parameters>> = {
  type: 'disagg-headers-handler',
  parameters,
  kinds: ['pre-request'],
  create: (name, p): PreRequest => ({
    type: 'disagg-headers-handler',
    name,
    preRequest: (_cycle, _request, result, mutations) => {
      mutations.removeHeaders.add(PREFILLER_HEADER)
      mutations.removeHeaders.add(ENCODERS_HEADER)
      const prefill = result.profileResults.get(p.prefillProfile)?.targets[0]
      if (prefill) mutations.headers[PREFILLER_HEADER] = prefill.ref.address
      const encoders = result.profileResults.get(p.encodeProfile)?.targets
      if (encoders?.length) mutations.headers[ENCODERS_HEADER] = encoders.map((e) => e.ref.address).join(',')
    },
  }),
}
