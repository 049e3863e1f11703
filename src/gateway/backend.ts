import type { EndpointPicker } from '../picker/endpoint-picker.js'
import type { EndpointRef } from '../picker/endpoint.js'

/** A backendRef resolved against the running stack. */
export type ResolvedBackend = PoolBackend | ServiceBackend

export interface PoolBackend {
  readonly kind: 'InferencePool'
  /** `InferencePool/<name>`, as the seed's route listing shows it. */
  readonly id: string
  readonly cluster: string
  readonly picker: EndpointPicker
  readonly failureMode: 'FailOpen' | 'FailClose'
  /** The pool's members, for FailOpen when the picker is down. */
  endpoints(): readonly EndpointRef[]
}

export interface ServiceBackend {
  readonly kind: 'Service'
  readonly id: string
  readonly cluster: string
  /** Round-robin over the Service's ready endpoints; undefined when it has none. */
  next(): EndpointRef | undefined
}

/** Resolves a rule's backendRef (by index) for a route; undefined when the reference does not resolve. */
export type BackendResolver = (routeKey: string, ruleIndex: number, backendIndex: number) => ResolvedBackend | undefined

/** Weighted choice among backendRefs (Gateway API: proportional to weight; weight 0 gets no traffic). */
export function chooseWeighted(weights: readonly number[], random: () => number): number | undefined {
  let total = 0
  for (const w of weights) total += w
  if (total <= 0) return undefined
  let r = random() * total
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!
    if (r < 0) return i
  }
  return weights.length - 1
}
