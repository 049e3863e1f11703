import type { Decision, EndpointPicker, ExplainRow } from '../picker/endpoint-picker.js'

/** One explained decision, as `GET /api/v1/explain/<request-id>` returns it. */
export interface ExplainedDecision {
  requestId: string
  /** `namespace/name` of the InferencePool. */
  pool: string
  endpoint: string
  profiles: readonly string[]
  rows: readonly ExplainRow[]
}

/**
 * The last explained decisions (requests sent with `x-maitred-explain: 1`), by request id, so `maitred explain` can read
 * the full rows after sending its request through the gateway (the response header only carries a summary).
 * Bounded: the oldest is forgotten first.
 */
export class ExplainHistory {
  readonly #byRequest = new Map<string, ExplainedDecision>()

  constructor(readonly capacity = 256) {}

  get(requestId: string): ExplainedDecision | undefined {
    return this.#byRequest.get(requestId)
  }

  /** The last `n` explained decisions, newest first (the live page's table). */
  recent(n: number): ExplainedDecision[] {
    return [...this.#byRequest.values()].slice(-n).reverse()
  }

  /** The same picker, remembering every decision that carries explain rows. */
  wrap(picker: EndpointPicker, pool: string): EndpointPicker {
    return {
      // Only explained picks carry rows, so only they pay for the extra step.
      pick: (request, options) =>
        options?.explain
          ? Promise.resolve(picker.pick(request, options)).then((decision) => {
              if (decision.explain) this.#remember(request.requestId, pool, decision)
              return decision
            })
          : picker.pick(request, options),
      complete: (outcome) => picker.complete(outcome),
      setEndpoints: (endpoints) => picker.setEndpoints(endpoints),
      endpointStates: () => picker.endpointStates(),
      close: () => picker.close(),
    }
  }

  #remember(requestId: string, pool: string, decision: Decision): void {
    this.#byRequest.delete(requestId)
    this.#byRequest.set(requestId, { requestId, pool, endpoint: decision.endpoint.address, profiles: decision.profiles, rows: decision.explain ?? [] })
    if (this.#byRequest.size > this.capacity) this.#byRequest.delete(this.#byRequest.keys().next().value!)
  }
}
