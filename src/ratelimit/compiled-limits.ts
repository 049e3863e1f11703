import { durationToMs } from '../config/object-meta.js'
import type { RateLimit } from '../config/policy-common.js'
import { celText, compileCel, compileWhen, type CelContext } from '../auth/cel.js'
import type { CounterEntry } from './limit-store.js'

/** A counter entry with the names it is reported under (metrics, headers). */
export interface LimitEntry extends CounterEntry {
  policy: string
  name: string
  window: string
}

interface CompiledLimit {
  name: string
  when: (context: CelContext) => boolean
  counters: ((context: CelContext) => unknown)[]
  rates: { limit: number; window: string; windowMs: number }[]
}

/**
 * One effective RateLimitPolicy or TokenRateLimitPolicy block, its CEL compiled once: per request, the counters that
 * apply (every limit whose `when` holds, one counter per rate and distinct counter value).
 */
export class CompiledLimits {
  readonly #limits: CompiledLimit[]
  readonly #when: (context: CelContext) => boolean

  constructor(
    /** `Kind/namespace/name` of the policy. */
    readonly policy: string,
    block: { limits: Record<string, RateLimit>; when?: { predicate: string }[] | undefined },
    readonly tokens: boolean,
  ) {
    this.#when = compileWhen(block.when)
    this.#limits = Object.entries(block.limits).map(([name, limit]) => ({
      name,
      when: compileWhen(limit.when),
      counters: (limit.counters ?? []).map((c) => compileCel(c.expression)),
      rates: limit.rates.map((r) => ({ limit: r.limit, window: r.window, windowMs: durationToMs(r.window) })),
    }))
  }

  /** Appends the counters this request counts against. A counter expression that cannot be evaluated skips its limit. */
  collect(context: CelContext, out: LimitEntry[]): void {
    if (!this.#when(context)) return
    for (const limit of this.#limits) {
      if (!limit.when(context)) continue
      let values = ''
      try {
        for (const counter of limit.counters) values += `|${celText(counter(context))}`
      } catch {
        continue
      }
      for (const rate of limit.rates)
        out.push({
          key: `${this.policy}/${limit.name}/${rate.window}${values}`,
          limit: rate.limit,
          windowMs: rate.windowMs,
          tokens: this.tokens,
          policy: this.policy,
          name: limit.name,
          window: rate.window,
        })
    }
  }
}
