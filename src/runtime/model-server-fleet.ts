import { readFile } from 'node:fs/promises'
import type { ModelServer } from '../config/model-server-schema.js'
import type { UpstreamTls } from '../picker/endpoint.js'
import { simOptionsSchema, type SimOptions } from '../sim/sim-options.js'
import { EndpointRegistry } from './endpoint-registry.js'
import { startSimulatorProcess, type SimulatorProcess } from './simulator-process.js'

/** Reads the CA file once, when the server joins; the proxy and the scraper then use the PEM. */
export async function upstreamTls(server: ModelServer): Promise<UpstreamTls | undefined> {
  const tls = server.spec.tls
  if (!tls) return undefined
  const ca = tls.caFile ? await readFile(tls.caFile, 'utf8') : undefined
  return { ...(ca ? { ca } : {}), ...(tls.serverName ? { serverName: tls.serverName } : {}), insecureSkipVerify: tls.insecureSkipVerify }
}

const idOf = (m: ModelServer) => `${m.metadata.namespace}/${m.metadata.name}`
const fingerprint = (m: ModelServer) => JSON.stringify([m.metadata.labels ?? {}, m.spec])

/**
 * The stack's model servers, like a Deployment's pods: simulated ones run as their own OS processes, external ones are
 * addresses. A dying process leaves the registry at once (so pools and Services stop sending to it).
 */
export class ModelServerFleet {
  readonly endpoints = new EndpointRegistry()
  readonly simulators = new Map<string, SimulatorProcess>()
  readonly #servers = new Map<string, ModelServer>()
  #stopping = false

  constructor(
    private readonly overrides: Partial<SimOptions> | undefined,
    private readonly log: (line: string) => void,
  ) {}

  get servers(): ModelServer[] {
    return [...this.#servers.values()]
  }

  server(id: string): ModelServer | undefined {
    return this.#servers.get(id)
  }

  /**
   * Makes the running set match `desired`: starts new and changed servers first, then returns the ids of servers to retire
   * (removed or replaced), which the caller stops once traffic has moved away from them.
   */
  async reconcile(desired: readonly ModelServer[]): Promise<{ started: string[]; retired: SimulatorProcess[]; retiredIds: string[] }> {
    const wanted = new Map(desired.map((m) => [idOf(m), m]))
    const changed = desired.filter((m) => {
      const current = this.#servers.get(idOf(m))
      return !current || fingerprint(current) !== fingerprint(m)
    })
    const retiredIds = [...this.#servers.keys()].filter((id) => !wanted.has(id) || changed.some((m) => idOf(m) === id))
    const retired: SimulatorProcess[] = []
    for (const id of retiredIds) {
      const sim = this.simulators.get(id)
      if (sim) retired.push(sim)
      this.simulators.delete(id)
      this.#servers.delete(id)
      this.endpoints.remove(id)
    }
    await Promise.all(changed.map((m) => this.#start(m)))
    return { started: changed.map(idOf), retired, retiredIds }
  }

  async #start(server: ModelServer): Promise<void> {
    const id = idOf(server)
    const tls = await upstreamTls(server)
    if (server.spec.external) {
      this.#servers.set(id, server)
      this.endpoints.add(server, server.spec.external.url, tls, server.spec.external.kvEvents, server.spec.external.maxModelLen)
      return
    }
    const options: SimOptions = { ...server.spec.simulator, ...this.overrides }
    const proc = await startSimulatorProcess(id, options, (code, signal) => {
      if (this.simulators.get(id) !== proc) return
      this.simulators.delete(id)
      this.endpoints.remove(id)
      if (!this.#stopping) this.log(`ModelServer ${id} exited (code ${code}, signal ${signal}); endpoint removed from its pools and Services`)
    })
    this.#servers.set(id, server)
    this.simulators.set(id, proc)
    this.endpoints.add(server, proc.url, tls, proc.kvEvents, simOptionsSchema.shape.maxModelLen.parse(options.maxModelLen))
  }

  async close(): Promise<void> {
    this.#stopping = true
    await Promise.all([...this.simulators.values()].map((s) => s.stop()))
    this.simulators.clear()
  }
}
