import type { Endpoint } from '../framework/types.js'

/** The pod label llm-d's P/D filters read. */
export const ROLE_LABEL = 'llm-d.ai/role'

/**
 * Stages an endpoint serves, from its role label. HEAD roles are hyphen-joined stage lists
 * (`encode`, `prefill`, `decode`, `encode-prefill`, `prefill-decode`, `encode-prefill-decode`); `both` is the
 * deprecated prefill+decode; no label means a plain aggregated server (decode only, as decode-filter keeps it).
 */
export function roleStages(e: Endpoint): ReadonlySet<string> | undefined {
  const role = e.ref.labels[ROLE_LABEL]
  if (role === undefined) return undefined
  return new Set(role === 'both' ? ['prefill', 'decode'] : role.split('-'))
}
