import type { EndpointRef, EndpointState } from './endpoint.js'

/** What the gateway hands the picker for one request (after route match and rewrite). */
export interface PickRequest {
  readonly requestId: string
  /** The path the model server will see, e.g. `/v1/chat/completions`. */
  readonly path: string
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | undefined>>
  /** Parsed JSON body (OpenAI chat or completions request); undefined for header-only requests. */
  readonly body: Record<string, unknown> | undefined
}

export interface PickOptions {
  /** Return the explain rows (how every candidate fared). */
  explain?: boolean
  /** Only these `host:port` addresses are eligible. */
  subset?: readonly string[]
}

/** One row of the explain table: how one candidate fared in one profile. */
export interface ExplainRow {
  profile: string
  endpoint: string
  /** Filter that dropped it, if any. */
  droppedBy?: string
  /** Per scorer: raw score in [0,1], weight, weighted contribution. */
  scores: { scorer: string; raw: number; weight: number; weighted: number }[]
  total: number
  picked: boolean
}

export interface Decision {
  readonly endpoint: EndpointRef
  /** Further endpoints to try, in order, if the primary fails before any response byte. */
  readonly fallbacks: readonly EndpointRef[]
  /** Headers to set on the upstream request (e.g. `x-prefiller-host-port`). */
  readonly headers: Readonly<Record<string, string>>
  /** Client-sent headers to drop before forwarding (e.g. a spoofed `x-prefiller-host-port`). */
  readonly removeHeaders?: readonly string[]
  /** Headers to set on the response to the client (e.g. `x-session-token`). */
  readonly responseHeaders?: Readonly<Record<string, string>>
  /** Profiles that ran, in order. */
  readonly profiles: readonly string[]
  readonly explain?: readonly ExplainRow[]
  /**
   * The picker's own record of this pick (its in-flight entry, its ext_proc stream), which `complete` gets back with the
   * decision: a picker keeps no table of requests in flight by id (docs/architecture.md).
   */
  readonly ticket?: unknown
  /** The picker's plugins' work for when the response is complete, which `complete` runs. */
  readonly afterResponse?: readonly ((now: number) => void)[]
}

/** Completion feedback, so stateful plugins (in-flight counts, session affinity, LRU) can learn. */
export interface PickOutcome {
  /** The decision this request was forwarded by, as `pick` returned it. */
  readonly decision: Decision
  readonly requestId: string
  readonly endpoint: EndpointRef
  readonly status: number
  readonly promptTokens?: number | undefined
  readonly completionTokens?: number | undefined
  /** The request's `model`, and ms from its arrival at the gateway to the end of the response. */
  readonly model?: string | undefined
  readonly durationMs?: number | undefined
}

/**
 * The picker seam: implemented in-process (the plugin scheduler) and by the ext_proc client.
 * `pick` rejects with a PickerError carrying an HTTP status (429 saturated/sheddable, 503 no endpoints, 400 bad body).
 */
export interface EndpointPicker {
  /**
   * `subset`: only these `host:port` addresses are eligible (Envoy's `envoy.lb.subset_hint`); none eligible → 503.
   * A picker that decides without waiting (in-process, once scraped) answers synchronously, and may throw; one that waits
   * (remote, or before the first scrape) returns a promise. Callers `await` either; only a promise can time out.
   */
  pick(request: PickRequest, options?: PickOptions): Decision | Promise<Decision>
  /** Called once per finished request (success or failure). */
  complete(outcome: PickOutcome): void
  /** The pool's current members; the picker's data layer starts/stops scraping accordingly. */
  setEndpoints(endpoints: readonly EndpointRef[]): void
  /** Snapshot for `maitred get endpoints` and the doctor. */
  endpointStates(): readonly EndpointState[]
  close(): Promise<void>
}

export class PickerError extends Error {
  constructor(
    readonly status: 400 | 429 | 503 | 500,
    message: string,
    readonly code: string,
  ) {
    super(message)
    this.name = 'PickerError'
  }
}
