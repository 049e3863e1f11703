import type { Registry } from 'prom-client'
import { BoundCounter } from '../observability/bound-metrics.js'

/** Auth and rate-limit decisions and per-tier usage; labelled by gateway, policy, limit and tier — never by key. */
export class AdmissionMetrics {
  readonly auth: BoundCounter
  readonly rateLimit: BoundCounter
  readonly tierRequests: BoundCounter
  readonly tierTokens: BoundCounter

  constructor(registry: Registry) {
    const registers = [registry]
    this.auth = new BoundCounter({ name: 'maitred_auth_decisions_total', help: 'AuthPolicy decisions by gateway and result (allowed, unauthenticated, unauthorized).', labelNames: ['gateway', 'result'], registers })
    this.rateLimit = new BoundCounter({
      name: 'maitred_ratelimit_decisions_total',
      help: 'Rate-limit decisions per counted limit (admitted, limited, unavailable: the counter store did not answer).',
      labelNames: ['policy', 'limit', 'result'],
      registers,
    })
    this.tierRequests = new BoundCounter({ name: 'maitred_tier_requests_total', help: 'Requests admitted per API-key tier.', labelNames: ['tier'], registers })
    this.tierTokens = new BoundCounter({ name: 'maitred_tier_tokens_total', help: 'Tokens used per API-key tier (kind: prompt, completion).', labelNames: ['tier', 'kind'], registers })
  }
}
