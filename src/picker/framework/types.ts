import type { EndpointMetrics, EndpointRef } from '../endpoint.js'
import type { CycleState } from './cycle-state.js'

/**
 * One endpoint as every plugin sees it during one scheduling cycle: an immutable snapshot taken
 * when the request arrived. Plugins never fetch; all I/O lives in the data layer.
 */
export interface Endpoint {
  readonly ref: EndpointRef
  /** Last scraped metrics (zeros before the first scrape). */
  readonly metrics: Readonly<EndpointMetrics>
  /** Requests and estimated prompt tokens this picker has sent there and not yet seen complete. */
  readonly inFlightRequests: number
  readonly inFlightTokens: number
}

/** The request as plugins see it: parsed once, shared by every plugin of the cycle. */
export interface SchedulingRequest {
  readonly requestId: string
  readonly path: string
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: Readonly<Record<string, unknown>> | undefined
  /** `body.model`, after any rewrite. */
  readonly targetModel: string
  /**
   * What prefix hashing reads: the completions `prompt`, or the JSON of chat `messages` (as GIE v1.1+). Only its
   * first `maxPromptChars()` characters (over all PromptReader plugins) are guaranteed; use `promptLength` for the length.
   */
  readonly prompt: string
  /** Length in characters of the whole prompt text. */
  readonly promptLength: number
  /** Token estimate at 4 bytes/token, as the estimate tokenizer of llm-d does. */
  readonly inputTokens: number
  /** InferenceObjective priority; negative means sheddable. */
  readonly priority: number
  /** Wall-clock ms when the cycle started (injected clock). */
  readonly now: number
  /** Injected randomness in [0,1). */
  readonly random: () => number
}

export interface Plugin {
  readonly type: string
  readonly name: string
}

export interface Filter extends Plugin {
  filter(cycle: CycleState, request: SchedulingRequest, endpoints: readonly Endpoint[]): readonly Endpoint[]
}

export interface Scorer extends Plugin {
  /** Scores in [0,1] (the framework clamps); an endpoint missing from the map scores 0. */
  score(cycle: CycleState, request: SchedulingRequest, endpoints: readonly Endpoint[]): ReadonlyMap<Endpoint, number>
}

export interface ScoredEndpoint {
  readonly endpoint: Endpoint
  readonly score: number
}

export interface Picker extends Plugin {
  /** Ordered targets: the first is the destination, the rest are fallbacks. */
  pick(cycle: CycleState, request: SchedulingRequest, scored: readonly ScoredEndpoint[]): readonly Endpoint[]
}

/** A scheduling profile after config loading: filters → weighted scorers → one picker. */
export interface SchedulerProfile {
  readonly name: string
  readonly filters: readonly Filter[]
  readonly scorers: readonly { readonly scorer: Scorer; readonly weight: number }[]
  readonly picker: Picker
}

/** Result of one profile run; `undefined` in the results map means the profile ran and found no endpoint. */
export interface ProfileRunResult {
  readonly targets: readonly Endpoint[]
}

export type ProfileResults = ReadonlyMap<string, ProfileRunResult | undefined>

export interface SchedulingResult {
  readonly primaryProfile: string
  readonly profileResults: ProfileResults
}

export interface ProfileHandler extends Plugin {
  /** Profiles to run next, given what ran so far; empty when the cycle is done. */
  pickProfiles(
    cycle: CycleState,
    request: SchedulingRequest,
    profiles: ReadonlyMap<string, SchedulerProfile>,
    results: ProfileResults,
  ): readonly SchedulerProfile[]
  /** Names the primary profile; throws a PickerError when the request cannot be served. */
  processResults(cycle: CycleState, request: SchedulingRequest, results: ProfileResults): SchedulingResult
}

/**
 * What a PreRequest plugin adds to the request's passage: headers for the upstream request and the client response, and
 * work to do once the response is complete (GIE's ResponseComplete; given the picker's clock).
 */
export interface RequestMutations {
  readonly headers: Record<string, string>
  readonly removeHeaders: Set<string>
  readonly responseHeaders: Record<string, string>
  afterResponse?: ((now: number) => void)[]
}

/** Runs after scheduling, before the request is sent (index updates, headers). */
export interface PreRequest extends Plugin {
  preRequest(cycle: CycleState, request: SchedulingRequest, result: SchedulingResult, mutations: RequestMutations): void
}

/** Runs before scheduling over all candidates and writes into the cycle state (GIE PrepareData / HEAD DataProducer). */
export interface DataProducer extends Plugin {
  produce(cycle: CycleState, request: SchedulingRequest, endpoints: readonly Endpoint[]): void
}

export interface SaturationDetector extends Plugin {
  /** Pool saturation in [0,∞); sheddable requests are dropped at ≥ 1. */
  saturation(endpoints: readonly Endpoint[], now: number): number
}

/** Decides whether a disaggregated stage (prefill, encode) runs, given the chosen decode endpoint. */
export interface PdDecider extends Plugin {
  disaggregate(cycle: CycleState, request: SchedulingRequest, decode: Endpoint): boolean
}

/** Plugins that read `SchedulingRequest.prompt` say how much of it they need. */
export interface PromptReader {
  maxPromptChars(): number
}

export const isFilter = (p: Plugin): p is Filter => typeof (p as Partial<Filter>).filter === 'function'
export const isScorer = (p: Plugin): p is Scorer => typeof (p as Partial<Scorer>).score === 'function'
export const isPicker = (p: Plugin): p is Picker => typeof (p as Partial<Picker>).pick === 'function'
export const isProfileHandler = (p: Plugin): p is ProfileHandler =>
  typeof (p as Partial<ProfileHandler>).pickProfiles === 'function'
export const isPreRequest = (p: Plugin): p is PreRequest => typeof (p as Partial<PreRequest>).preRequest === 'function'
export const isDataProducer = (p: Plugin): p is DataProducer => typeof (p as Partial<DataProducer>).produce === 'function'
export const isSaturationDetector = (p: Plugin): p is SaturationDetector =>
  typeof (p as Partial<SaturationDetector>).saturation === 'function'
export const isPdDecider = (p: Plugin): p is PdDecider => typeof (p as Partial<PdDecider>).disaggregate === 'function'
