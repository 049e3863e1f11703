import type { ModelServer } from '../config/model-server-schema.js'
import { matchesLabels } from '../controller/label-selector.js'
import type { EndpointRef, KvEventsAddress, UpstreamTls } from '../picker/endpoint.js'

/** The live endpoints of the stack's ModelServers (the pods that are Running), and who wants to hear about changes. */
export class EndpointRegistry {
  readonly #endpoints = new Map<string, EndpointRef>()
  readonly #listeners = new Set<() => void>()

  add(server: ModelServer, url: string, tls?: UpstreamTls, kvEvents?: KvEventsAddress, maxModelLen?: number): EndpointRef {
    const { name, namespace } = server.metadata
    const u = new URL(url)
    const endpoint: EndpointRef = {
      id: `${namespace}/${name}`,
      name,
      namespace,
      address: `${u.hostname}:${u.port || (u.protocol === 'https:' ? 443 : 80)}`,
      url: url.replace(/\/+$/, ''),
      labels: server.metadata.labels ?? {},
      ...(tls ? { tls } : {}),
      ...(kvEvents ? { kvEvents } : {}),
      ...(maxModelLen ? { maxModelLen } : {}),
    }
    this.#endpoints.set(endpoint.id, endpoint)
    this.#changed()
    return endpoint
  }

  remove(id: string): void {
    if (this.#endpoints.delete(id)) this.#changed()
  }

  all(): EndpointRef[] {
    return [...this.#endpoints.values()]
  }

  /** Kubernetes selection: same namespace, every selector label matching. */
  select(namespace: string, selector: Readonly<Record<string, string>>): EndpointRef[] {
    return this.all().filter((e) => e.namespace === namespace && matchesLabels(e.labels, selector))
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #changed(): void {
    for (const l of this.#listeners) l()
  }
}
