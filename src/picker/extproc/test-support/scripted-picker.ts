import type { EndpointRef } from '../../endpoint.js'
import { type Decision, type EndpointPicker, PickerError, type PickOutcome, type PickRequest } from '../../endpoint-picker.js'

/** Header a test sets to make the scripted picker refuse with that status (400, 429, 500 or 503). */
export const REFUSE_HEADER = 'x-test-refuse'

export interface ScriptedPicker extends EndpointPicker {
  readonly picks: PickRequest[]
  readonly outcomes: PickOutcome[]
}

export function testEndpoint(port: number, labels: Record<string, string> = {}): EndpointRef {
  return { id: `default/ms-${port}`, name: `ms-${port}`, namespace: 'default', address: `127.0.0.1:${port}`, url: `http://127.0.0.1:${port}`, labels }
}

/**
 * A deterministic EndpointPicker for the ext_proc tests: round-robin over its endpoints, `fallbacks` more endpoints after
 * the primary, fixed extra headers, refusals on demand via REFUSE_HEADER, and a record of every pick and outcome.
 */
export function createScriptedPicker(
  endpoints: readonly EndpointRef[],
  options: { fallbacks?: number; headers?: Record<string, string> } = {},
): ScriptedPicker {
  let next = 0
  const picks: PickRequest[] = []
  const outcomes: PickOutcome[] = []
  return {
    picks,
    outcomes,
    async pick(request: PickRequest): Promise<Decision> {
      picks.push(request)
      const refuse = request.headers[REFUSE_HEADER]
      if (refuse) throw new PickerError(Number(refuse) as PickerError['status'], `refused by test (${refuse})`, `test_${refuse}`)
      if (endpoints.length === 0) throw new PickerError(503, 'no endpoints', 'no_endpoints')
      const ordered = endpoints.map((_, index) => endpoints[(next + index) % endpoints.length] as EndpointRef)
      next = (next + 1) % endpoints.length
      const [endpoint, ...rest] = ordered as [EndpointRef, ...EndpointRef[]]
      return { endpoint, fallbacks: rest.slice(0, options.fallbacks ?? 0), headers: options.headers ?? {}, profiles: ['default'] }
    },
    complete(outcome: PickOutcome): void {
      outcomes.push(outcome)
    },
    setEndpoints(): void {},
    endpointStates() {
      return endpoints.map((endpoint) => ({ endpoint, metrics: undefined, healthy: true }))
    },
    async close(): Promise<void> {},
  }
}
