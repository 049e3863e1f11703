import { z } from 'zod'
import { durationMs } from '../framework/duration.js'
import type { PluginDefinition } from '../framework/registry.js'
import type { Plugin, Scorer } from '../framework/types.js'

interface Params {
  requestTimeout: number
  idleThreshold: number
  maxBusyScore: number
}

/** Plugins that need in-flight requests to expire after a timeout (requests whose completion was never seen). */
export interface InFlightTimeout {
  readonly inFlightTimeoutMs: number
}
export const hasInFlightTimeout = (p: Plugin): p is Plugin & InFlightTimeout =>
  typeof (p as Partial<InFlightTimeout>).inFlightTimeoutMs === 'number'

/**
 * llm-d: fewer in-flight requests score higher. At or below `idleThreshold` → 1.0; otherwise
 * `maxBusyScore·(max − count)/max` over the candidates (v0.3's formula, HEAD's parameters).
 */
export const activeRequestScorer: PluginDefinition<Params> = {
  type: 'active-request-scorer',
  parameters: z.strictObject({
    requestTimeout: durationMs.default(120_000),
    idleThreshold: z.number().int().nonnegative().default(0),
    maxBusyScore: z.number().min(0).max(1).default(1),
  }),
  kinds: ['scorer'],
  create: (name, p): Scorer & InFlightTimeout => ({
    type: 'active-request-scorer',
    name,
    inFlightTimeoutMs: p.requestTimeout,
    score: (_cycle, _request, endpoints) => {
      const max = Math.max(0, ...endpoints.map((e) => e.inFlightRequests))
      return new Map(
        endpoints.map((e) => {
          const n = e.inFlightRequests
          return [e, n <= p.idleThreshold || max === 0 ? 1 : (p.maxBusyScore * (max - n)) / max]
        }),
      )
    },
  }),
}
