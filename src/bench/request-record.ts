/** What the client measured of one request (times in ms; `startedAt` from the start of the run). */
export interface RequestRecord {
  startedAt: number
  /** Time to first token: the first content-bearing stream event. */
  ttftMs: number | undefined
  /** Inter-token latency: (last token − first token) / (output tokens − 1); excludes the first token (GuideLLM). */
  itlMs: number | undefined
  /** Time per output token: (last token − start) / output tokens; includes the first token (GuideLLM). */
  tpotMs: number | undefined
  latencyMs: number
  promptTokens: number | undefined
  outputTokens: number
  /** ok; error (see `error`); incomplete: cancelled when the run's time ran out. */
  status: 'ok' | 'error' | 'incomplete'
  /** `http_<status>`, `network`, `stream_error` (an error event inside a 200 stream) or `truncated` (no [DONE]). */
  error?: string
  /** The endpoint that served it, when the gateway says (x-gateway-destination-endpoint-served). */
  endpoint?: string
  group: number
}
