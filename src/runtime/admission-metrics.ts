import type { Registry } from 'prom-client'
import { BoundCounter, type CounterSeries } from '../observability/bound-metrics.js'

/** The series one tier's requests and tokens are counted in. */
export interface TierSeries {
  requests: CounterSeries
  prompt: CounterSeries
  completion: CounterSeries
}

/** Auth and rate-limit decisions and per-tier usage; labelled by gateway, policy, limit and tier — never by key. */
export class AdmissionMetrics {
  readonly auth: BoundCounter
  readonly rateLimit: BoundCounter
  readonly tierRequests: BoundCounter
  readonly tierTokens: BoundCounter
  readonly #tiers = new Map<string, TierSeries>()

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

  /** A tier's series, resolved once per tier: they are updated on every request. */
  tier(name: string): TierSeries {
    let series = this.#tiers.get(name)
    if (!series) this.#tiers.set(name, (series = { requests: this.tierRequests.labels(name), prompt: this.tierTokens.labels(name, 'prompt'), completion: this.tierTokens.labels(name, 'completion') }))
    return series
  }
}
