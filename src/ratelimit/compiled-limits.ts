import { durationToMs } from '../config/object-meta.js'
import type { RateLimit } from '../config/policy-common.js'
import { celText, compileCel, compileWhen, requestFields, type CelContext } from '../auth/cel.js'
import type { CounterEntry } from './limit-store.js'
import { rateLimitHeaderParts, type RateLimitHeaderParts } from './rate-limit-headers.js'

/** A counter entry with the names it is reported under (metrics, headers). */
export interface LimitEntry extends CounterEntry {
  policy: string
  name: string
  window: string
  /** The compiled rate it counts: one object per rate of a policy, shared by the entries of every request. */
  rate: LimitRate
}

/** One rate of a limit, compiled once: with the parts of its rate-limit headers that no request changes. */
export interface LimitRate {
  limit: number
  window: string
  windowMs: number
  headers: RateLimitHeaderParts
}

/** Paths remembered per identity at most (then forgotten all at once): a client choosing paths cannot grow memory. */
const PATHS_PER_IDENTITY = 64

interface CompiledLimit {
  name: string
  when: (context: CelContext) => boolean
  counters: ((context: CelContext) => unknown)[]
  rates: LimitRate[]
}

/**
 * One effective RateLimitPolicy or TokenRateLimitPolicy block, its CEL compiled once: per request, the counters that
 * apply (every limit whose `when` holds, one counter per rate and distinct counter value). When every expression reads
 * only `auth` and the request's path (MaaS's tier limits do), the counters of a shared identity are worked out once per
 * path and reused.
 */
export class CompiledLimits {
  readonly #limits: CompiledLimit[]
  readonly #when: (context: CelContext) => boolean
  readonly #byIdentity: WeakMap<object, Map<string, LimitEntry[]>> | undefined

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
      rates: limit.rates.map((r) => {
        const windowMs = durationToMs(r.window)
        return { limit: r.limit, window: r.window, windowMs, headers: rateLimitHeaderParts(name, r.limit, r.window, windowMs) }
      }),
    }))
    const sources = [...(block.when ?? []).map((w) => w.predicate)]
    for (const limit of Object.values(block.limits)) sources.push(...(limit.when ?? []).map((w) => w.predicate), ...(limit.counters ?? []).map((c) => c.expression))
    const pathOnly = sources.every((source) => [...requestFields(compileCel(source))].every((f) => f === 'path' || f === 'url_path'))
    this.#byIdentity = pathOnly ? new WeakMap() : undefined
  }

  /** Appends the counters this request counts against. A counter expression that cannot be evaluated skips its limit. */
  collect(context: CelContext, out: LimitEntry[]): void {
    const identity = context.sharedIdentity ? context.auth?.identity : undefined
    if (!identity || !this.#byIdentity) return this.#collect(context, out)
    let byPath = this.#byIdentity.get(identity)
    if (!byPath) this.#byIdentity.set(identity, (byPath = new Map()))
    let entries = byPath.get(context.request.path)
    if (!entries) {
      this.#collect(context, (entries = []))
      if (byPath.size >= PATHS_PER_IDENTITY) byPath.clear()
      byPath.set(context.request.path, entries)
    }
    for (const e of entries) out.push(e)
  }

  #collect(context: CelContext, out: LimitEntry[]): void {
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
          rate,
        })
    }
  }
}
