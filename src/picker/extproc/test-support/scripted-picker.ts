import type { EndpointRef } from '../../endpoint.js'
import { type Decision, type EndpointPicker, PickerError, type PickOptions, type PickOutcome, type PickRequest } from '../../endpoint-picker.js'

/** Header a test sets to make the scripted picker refuse with that status (400, 429, 500 or 503). */
export const REFUSE_HEADER = 'x-test-refuse'


export interface ScriptedPicker extends EndpointPicker {
  readonly picks: PickRequest[]
  readonly pickOptions: PickOptions[]
  readonly outcomes: Omit<PickOutcome, 'decision'>[]
}

export function testEndpoint(port: number, labels: Record<string, string> = {}): EndpointRef {
  return { id: `default/ms-${port}`, name: `ms-${port}`, namespace: 'default', address: `127.0.0.1:${port}`, url: `http://127.0.0.1:${port}`, labels }
}

/**
 * A deterministic EndpointPicker for the ext_proc tests: round-robin over its endpoints (restricted to `subset` when
 * given), `fallbacks` more endpoints after the primary, fixed extra decision parts, a one-row-per-endpoint explain table
 * on request, refusals on demand via REFUSE_HEADER, and a record of every pick and outcome.
 */
export function createScriptedPicker(
  endpoints: readonly EndpointRef[],
  options: { fallbacks?: number; decision?: Pick<Decision, 'headers' | 'removeHeaders' | 'responseHeaders'> } = {},
): ScriptedPicker {
  let next = 0
  const picks: PickRequest[] = []
  const pickOptions: PickOptions[] = []
  const outcomes: Omit<PickOutcome, 'decision'>[] = []
  return {
    picks,
    pickOptions,
    outcomes,
    async pick(request: PickRequest, given: PickOptions = {}): Promise<Decision> {
      picks.push(request)
      pickOptions.push(given)
      const refuse = request.headers[REFUSE_HEADER]
      if (refuse) throw new PickerError(Number(refuse) as PickerError['status'], `refused by test (${refuse})`, `test_${refuse}`)
      const candidates = given.subset ? endpoints.filter((endpoint) => given.subset?.includes(endpoint.address)) : endpoints
      if (candidates.length === 0) throw new PickerError(503, 'no eligible endpoints', 'rejected-no-endpoints')
      const ordered = candidates.map((_, index) => candidates[(next + index) % candidates.length] as EndpointRef)
      next += 1
      const [endpoint, ...rest] = ordered as [EndpointRef, ...EndpointRef[]]
      const explain = given.explain
        ? ordered.map((candidate, index) => ({ profile: 'default', endpoint: candidate.id, scores: [{ scorer: 'queue-scorer', raw: 1 / (index + 1), weight: 2, weighted: 2 / (index + 1) }], total: 2 / (index + 1), picked: index === 0 }))
        : undefined
      return { headers: {}, ...options.decision, endpoint, fallbacks: rest.slice(0, options.fallbacks ?? 0), profiles: ['default'], ...(explain ? { explain } : {}) }
    },
    // Recorded without the decision: tests compare what the session reported about the request.
    complete({ decision: _decision, ...outcome }: PickOutcome): void {
      outcomes.push(outcome)
    },
    setEndpoints(): void {},
    endpointStates() {
      return endpoints.map((endpoint) => ({ endpoint, metrics: undefined, healthy: true }))
    },
    async close(): Promise<void> {},
  }
}
