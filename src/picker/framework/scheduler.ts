import type { ExplainRow } from '../endpoint-picker.js'
import { CycleState } from './cycle-state.js'
import type { PluginSet } from './plugin-set.js'
import type { Endpoint, ProfileRunResult, SchedulerProfile, SchedulingRequest, SchedulingResult } from './types.js'

export interface ScheduleOutput {
  readonly cycle: CycleState
  readonly result: SchedulingResult
  /** Profiles in the order they ran. */
  readonly profilesRun: readonly string[]
  readonly explain?: readonly ExplainRow[]
}

type ExtensionPoint = 'PrepareData' | 'Filter' | 'Scorer' | 'Picker'

/** Where one plugin's call durations go (`plugin_duration_seconds`), per extension point: resolved once per plugin. */
export type PluginTimers = (extensionPoint: ExtensionPoint, plugin: { type: string; name: string }) => { observe(seconds: number): void }

const clamp01 = (x: number) => (x > 1 ? 1 : x > 0 ? x : 0) // NaN → 0

/**
 * One scheduling cycle (GIE `scheduler_profile.go`): producers fill the cycle state, the profile handler
 * picks profiles until it has enough, each profile filters, scores `Σ weight·clamp(score)` and picks,
 * and the handler names the primary result.
 */
export class Scheduler {
  /** Per extension point, each plugin's duration series from `timers` (resolved at its first call). */
  readonly #durations = new Map<ExtensionPoint, Map<object, { observe(seconds: number): void }>>()

  constructor(
    readonly plugins: PluginSet,
    readonly timers?: PluginTimers,
  ) {}

  schedule(request: SchedulingRequest, endpoints: readonly Endpoint[], explain = false): ScheduleOutput {
    const { profileHandler, profiles, producers } = this.plugins
    const cycle = new CycleState()
    for (const producer of producers) {
      const start = performance.now()
      producer.produce(cycle, request, endpoints)
      this.#took('PrepareData', producer, start)
    }
    const results = new Map<string, ProfileRunResult | undefined>()
    const profilesRun: string[] = []
    const rows: ExplainRow[] | undefined = explain ? [] : undefined
    // A handler asks for each profile at most once; the bound only guards against a buggy handler looping.
    for (let round = 0; round <= profiles.size; round++) {
      const next = profileHandler.pickProfiles(cycle, request, profiles, results)
      if (next.length === 0) break
      for (const profile of next) {
        results.set(profile.name, this.#runProfile(profile, cycle, request, endpoints, rows))
        profilesRun.push(profile.name)
      }
    }
    const result = profileHandler.processResults(cycle, request, results)
    // No spread of a conditional object: that would allocate one more object on every pick.
    return rows ? { cycle, result, profilesRun, explain: rows } : { cycle, result, profilesRun }
  }

  #runProfile(
    profile: SchedulerProfile,
    cycle: CycleState,
    request: SchedulingRequest,
    endpoints: readonly Endpoint[],
    rows: ExplainRow[] | undefined,
  ): ProfileRunResult | undefined {
    let remaining = endpoints
    const droppedBy = rows ? new Map<Endpoint, string>() : undefined
    for (const filter of profile.filters) {
      const start = performance.now()
      const kept = filter.filter(cycle, request, remaining)
      this.#took('Filter', filter, start)
      if (droppedBy) {
        const keep = new Set(kept)
        for (const e of remaining) if (!keep.has(e)) droppedBy.set(e, filter.name)
      }
      remaining = kept
      if (remaining.length === 0) break
    }
    const totals = new Array<number>(remaining.length).fill(0)
    const raw = rows ? profile.scorers.map(() => new Array<number>(remaining.length)) : undefined
    if (remaining.length > 0) {
      profile.scorers.forEach(({ scorer, weight }, si) => {
        const start = performance.now()
        const scores = scorer.score(cycle, request, remaining)
        this.#took('Scorer', scorer, start)
        for (let i = 0; i < remaining.length; i++) {
          const s = clamp01(scores.get(remaining[i]!) ?? 0)
          totals[i]! += weight * s
          if (raw) raw[si]![i] = s
        }
      })
    }
    let targets: readonly Endpoint[] = []
    if (remaining.length > 0) {
      const start = performance.now()
      targets = profile.picker.pick(cycle, request, remaining.map((endpoint, i) => ({ endpoint, score: totals[i]! })))
      this.#took('Picker', profile.picker, start)
    }
    if (rows && droppedBy) {
      const index = new Map(remaining.map((e, i) => [e, i]))
      for (const e of endpoints) {
        const i = index.get(e)
        const dropped = droppedBy.get(e)
        rows.push({
          profile: profile.name,
          endpoint: e.ref.id,
          ...(dropped !== undefined ? { droppedBy: dropped } : {}),
          scores:
            i === undefined
              ? []
              : profile.scorers.map(({ scorer, weight }, si) => ({ scorer: scorer.name, raw: raw![si]![i]!, weight, weighted: weight * raw![si]![i]! })),
          total: i === undefined ? 0 : totals[i]!,
          picked: targets[0] === e,
        })
      }
    }
    return targets.length > 0 ? { targets } : undefined
  }

  /** Records a plugin call that began at `start` (a plugin that throws fails the cycle, so it is not timed). */
  #took(point: ExtensionPoint, plugin: { type: string; name: string }, start: number): void {
    if (!this.timers) return
    let byPlugin = this.#durations.get(point)
    if (!byPlugin) this.#durations.set(point, (byPlugin = new Map()))
    let series = byPlugin.get(plugin)
    if (!series) byPlugin.set(plugin, (series = this.timers(point, plugin)))
    series.observe((performance.now() - start) / 1000)
  }
}
