import type { Server } from 'node:http'
import { Registry } from 'prom-client'
import type { Gateway, GatewayListener } from '../config/gateway-schema.js'
import type { ModelServer } from '../config/model-server-schema.js'
import type { Stack } from '../controller/stack.js'
import { createAccessLog } from '../gateway/access-log.js'
import type { BackendResolver, ResolvedBackend } from '../gateway/backend.js'
import { closeServer, listen } from '../gateway/listener-server.js'
import { RequestHandler } from '../gateway/request-handler.js'
import { RoundRobin } from '../gateway/round-robin.js'
import { RouteTable } from '../gateway/route-table.js'
import { UpstreamProxy } from '../gateway/upstream-proxy.js'
import { INFERENCE_POOL_GROUPS } from '../controller/route-status.js'
import type { EndpointPicker } from '../picker/endpoint-picker.js'
import { createInProcessPicker } from '../picker/in-process-picker.js'
import type { SimOptions } from '../sim/sim-options.js'
import { EndpointRegistry } from './endpoint-registry.js'
import { startSimulatorProcess, type SimulatorProcess } from './simulator-process.js'

export interface StackRuntimeOptions {
  /** Port for each listener; defaults to the declared one (tests pass 0 for OS-chosen ports). */
  listenerPort?: (gateway: Gateway, listener: GatewayListener) => number
  /** Interface the gateway listeners bind (default 0.0.0.0, like a LoadBalancer Service). */
  bindHost?: string
  /** `-` for stdout, a file path, or `off`. */
  accessLog?: string
  /** Status lines for the operator (replica died, …). */
  log?: (line: string) => void
  scrapeIntervalMs?: number
  /** Override these options of every simulated ModelServer (e.g. a time scale for tests and demos). */
  simulatorOverrides?: Partial<SimOptions>
  maxBodyBytes?: number
  random?: () => number
}

export interface RunningListener {
  gateway: Gateway
  listener: GatewayListener
  url: string
  port: number
  server: Server
  handler: RequestHandler
}

export interface RunningPicker {
  key: string
  deployment: Stack['pickers'][number]
  picker: EndpointPicker
}

const key = (namespace: string, name: string) => `${namespace}/${name}`

/** Turns a derived Stack into running things: simulator processes, pickers, round-robin Services and gateway listeners. */
export class StackRuntime {
  readonly registry = new Registry()
  readonly endpoints = new EndpointRegistry()
  readonly simulators = new Map<string, SimulatorProcess>()
  readonly pickers = new Map<string, RunningPicker>()
  readonly services = new Map<string, RoundRobin>()
  readonly listeners: RunningListener[] = []
  readonly #proxy = new UpstreamProxy()
  #stopping = false

  private constructor(
    readonly stack: Stack,
    private readonly options: StackRuntimeOptions,
  ) {}

  static async start(stack: Stack, options: StackRuntimeOptions = {}): Promise<StackRuntime> {
    const runtime = new StackRuntime(stack, options)
    try {
      await runtime.#startModelServers()
      runtime.#startPickersAndServices()
      await runtime.#startListeners()
    } catch (err) {
      await runtime.close()
      throw err
    }
    return runtime
  }

  async #startModelServers(): Promise<void> {
    const log = this.options.log ?? (() => {})
    await Promise.all(
      this.stack.modelServers.map(async (server) => {
        const id = key(server.metadata.namespace, server.metadata.name)
        if (server.spec.external) {
          this.endpoints.add(server, server.spec.external.url)
          return
        }
        const options: SimOptions = { ...server.spec.simulator, ...this.options.simulatorOverrides }
        const proc = await startSimulatorProcess(id, options, (code, signal) => {
          this.simulators.delete(id)
          this.endpoints.remove(id)
          if (!this.#stopping) log(`ModelServer ${id} exited (code ${code}, signal ${signal}); endpoint removed from its pools and Services`)
        })
        this.simulators.set(id, proc)
        this.endpoints.add(server, proc.url)
      }),
    )
  }

  #startPickersAndServices(): void {
    for (const deployment of this.stack.pickers) {
      const picker = createInProcessPicker({
        config: deployment.config,
        poolName: deployment.poolName,
        registry: this.registry,
        ...(this.options.scrapeIntervalMs ? { scrapeIntervalMs: this.options.scrapeIntervalMs } : {}),
      })
      this.pickers.set(key(deployment.namespace, deployment.poolName), { key: key(deployment.namespace, deployment.name), deployment, picker })
    }
    for (const service of this.stack.services) this.services.set(key(service.metadata.namespace, service.metadata.name), new RoundRobin())
    const sync = () => {
      for (const pool of this.stack.pools) {
        const running = this.pickers.get(key(pool.metadata.namespace, pool.metadata.name))
        running?.picker.setEndpoints(this.endpoints.select(pool.metadata.namespace, pool.spec.selector.matchLabels))
      }
      for (const service of this.stack.services)
        this.services.get(key(service.metadata.namespace, service.metadata.name))?.set(this.endpoints.select(service.metadata.namespace, service.spec.selector))
    }
    this.endpoints.onChange(sync)
    sync()
  }

  /** Resolves every route rule's backendRefs once; the request path then only indexes arrays. */
  #backendResolver(): BackendResolver {
    const table = new Map<string, (ResolvedBackend | undefined)[][]>()
    for (const route of this.stack.routes) {
      const ns = route.metadata.namespace
      table.set(
        key(ns, route.metadata.name),
        route.spec.rules.map((rule) =>
          (rule.backendRefs ?? []).map((ref): ResolvedBackend | undefined => {
            if ((ref.namespace ?? ns) !== ns) return undefined
            const cluster = `outbound|${ref.port ?? ''}||${ref.name}.${ns}.svc.cluster.local`
            if (ref.kind === 'InferencePool' && INFERENCE_POOL_GROUPS.includes(ref.group)) {
              const running = this.pickers.get(key(ns, ref.name))
              const pool = this.stack.pools.find((p) => p.metadata.namespace === ns && p.metadata.name === ref.name)
              if (!running || !pool) return undefined
              return { kind: 'InferencePool', id: `InferencePool/${ref.name}`, cluster, picker: running.picker, failureMode: pool.spec.endpointPickerRef?.failureMode ?? 'FailClose' }
            }
            const rr = ref.kind === 'Service' ? this.services.get(key(ns, ref.name)) : undefined
            return rr && { kind: 'Service', id: `Service/${ref.name}`, cluster, next: () => rr.next() }
          }),
        ),
      )
    }
    return (routeKey, ruleIndex, backendIndex) => table.get(routeKey)?.[ruleIndex]?.[backendIndex]
  }

  async #startListeners(): Promise<void> {
    const accessLog = createAccessLog(this.options.accessLog ?? '-')
    const backends = this.#backendResolver()
    const bindHost = this.options.bindHost ?? '0.0.0.0'
    for (const gateway of this.stack.gateways) {
      for (const listener of gateway.spec.listeners) {
        if (listener.protocol !== 'HTTP')
          throw new Error(`Gateway ${gateway.metadata.namespace}/${gateway.metadata.name} listener ${listener.name}: ${listener.protocol} listeners are not supported yet`)
        const port = this.options.listenerPort?.(gateway, listener) ?? listener.port
        const context = { gateway: gateway.metadata.name, listener: listener.name, scheme: 'http' as const, port }
        const handler = new RequestHandler(context, RouteTable.forListener(this.stack, gateway, listener), backends, this.#proxy, accessLog, {
          maxBodyBytes: this.options.maxBodyBytes ?? 32 * 1024 * 1024,
          maxAttempts: 3,
          random: this.options.random ?? Math.random,
        })
        const { server, port: actual } = await listen(handler, bindHost, port)
        context.port = actual
        const host = bindHost === '0.0.0.0' || bindHost === '::' ? 'localhost' : bindHost
        this.listeners.push({ gateway, listener, url: `http://${host}:${actual}`, port: actual, server, handler })
      }
    }
  }

  /** Drains listeners, stops pickers and reaps every simulator process. */
  async close(): Promise<void> {
    this.#stopping = true
    await Promise.all(this.listeners.map((l) => closeServer(l.server)))
    await Promise.all([...this.pickers.values()].map((p) => p.picker.close()))
    await Promise.all([...this.simulators.values()].map((s) => s.stop()))
    await this.#proxy.close()
  }

  /** The ModelServer behind an endpoint id, for status output. */
  modelServer(id: string): ModelServer | undefined {
    return this.stack.modelServers.find((m) => key(m.metadata.namespace, m.metadata.name) === id)
  }
}
