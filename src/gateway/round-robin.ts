import type { EndpointRef } from '../picker/endpoint.js'

/** What a Kubernetes Service does for the catch-all routes: round-robin over ready endpoints, no smart picking. */
export class RoundRobin {
  #endpoints: readonly EndpointRef[] = []
  #cursor = 0

  set(endpoints: readonly EndpointRef[]): void {
    this.#endpoints = endpoints
  }

  get endpoints(): readonly EndpointRef[] {
    return this.#endpoints
  }

  next(): EndpointRef | undefined {
    const list = this.#endpoints
    if (list.length === 0) return undefined
    this.#cursor = (this.#cursor + 1) % list.length
    return list[this.#cursor]
  }
}
