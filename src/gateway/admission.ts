import type { IncomingHttpHeaders } from 'node:http'
import type { AccessLogRecord } from './access-log.js'
import type { ResponseUsage } from './response-usage.js'

/** The request as the admission stage sees it, before any route filter changed it. */
export interface AdmissionRequest {
  method: string
  path: string
  query: string
  host: string
  headers: IncomingHttpHeaders
}

/** The model servers a request may go to (a pool's endpoints), with the context length each reported, if it did. */
export interface ModelServers {
  endpoints(): readonly { readonly maxModelLen?: number | undefined }[]
}

/** Rewrites the upstream response on its way to the client (drops the usage event the gateway asked for). */
export interface ResponseTap {
  /** Response headers arrived; may drop `content-length` when chunks will be rewritten. */
  onHeaders(status: number, headers: Record<string, string | string[]>): void
  /** A chunk on its way to the client; returns what the client gets (possibly less). */
  transform(chunk: Buffer): Buffer
  /** The upstream body ended: what is still held back, for the client. */
  end(): Buffer | undefined
}

/**
 * One request's passage through a route's AuthPolicy and rate limits (DESIGN.md: authenticate → admit → … → settle).
 * The handler calls them in order; any of the first two throws AdmissionDenial.
 */
export interface AdmissionTicket {
  /** Identity from the request head (no body read yet for an unauthenticated client); a promise only when it must wait. */
  authenticate(): Promise<void> | undefined
  /**
   * The request headers that carry the client's credentials: they are left out of what goes upstream when the headers are
   * copied (a property deleted afterwards would turn the object into a slow dictionary for the rest of its way).
   */
  readonly credentialHeaders: ReadonlySet<string> | undefined
  /** Adds the policy's identity headers to what goes upstream. */
  upstreamHeaders(headers: Record<string, string | string[]>): void
  /** The query string that goes upstream (a query credential removed). */
  readonly upstreamQuery: string
  /**
   * Model permission and rate limits. Returns the top-level fields a pool request's body must get (a token cap,
   * `stream_options`), if any; `body` itself is only read. A cap never goes past the context length of `servers` (the
   * pool the request may go to), read only when a cap is added. A promise only when the answer must be waited for (the
   * counter store asked): most requests then take no event-loop turn here.
   */
  admit(body: Readonly<Record<string, unknown>> | undefined, servers?: ModelServers): Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>
  /** Headers for the client's response (rate-limit state). */
  readonly responseHeaders: Record<string, string> | undefined
  /** Set by admit() when the response must be rewritten for the client. */
  readonly tap: ResponseTap | undefined
  /**
   * The exchange is over: `status` 0 when no upstream answer came; `usage` as the response's watch read it. Settles token
   * reservations and usage accounting.
   */
  settle(status: number, usage: ResponseUsage | undefined): void
}

/** Starts a route's admission for one request; undefined when no policy applies to it. */
export interface Admission {
  start(request: AdmissionRequest, record: AccessLogRecord): AdmissionTicket
}

/** Resolves the admission of a listener's route rule (built once per configuration). */
export type AdmissionResolver = (routeKey: string, ruleIndex: number) => Admission | undefined

/** A refusal by the admission stage: the response is the policy's (status, headers, body). */
export class AdmissionDenial extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    readonly body: string,
    /** Envoy-style response flag for the access log: UAEX (auth denied), RL (rate limited), RLSE (limit store error). */
    readonly flag: string,
  ) {
    super(`admission denied (${status})`)
    this.name = 'AdmissionDenial'
  }
}
