import { join } from 'node:path'
import { Registry } from 'prom-client'
import type { Gateway, GatewayListener } from '../config/gateway-schema.js'
import type { ModelServer } from '../config/model-server-schema.js'
import type { PickerDeployment, Stack } from '../controller/stack.js'
import { createAccessLog, type AccessLog } from '../gateway/access-log.js'
import { RoundRobin } from '../gateway/round-robin.js'
import { DEFAULT_RETRY_POLICY, UpstreamProxy, type RetryPolicy } from '../gateway/upstream-proxy.js'
import { EndpointTraffic } from '../observability/endpoint-traffic.js'
import { GatewayMetrics } from '../observability/gateway-metrics.js'
import type { EndpointPicker } from '../picker/endpoint-picker.js'
import { createInProcessPicker } from '../picker/in-process-picker.js'
import type { SimOptions } from '../sim/sim-options.js'
import type { ApiKeyStore } from '../keys/api-key-store.js'
import type { LimitStore } from '../ratelimit/limit-store.js'
import { MemoryLimitStore } from '../ratelimit/memory.js'
import type { RateLimitBehaviour } from '../ratelimit/rate-limiter.js'
import { AdmissionMetrics } from './admission-metrics.js'
import { AdmissionTable } from './admission-table.js'
import { buildBackendResolver } from './backend-table.js'
import type { EndpointRegistry } from './endpoint-registry.js'
import { ExplainHistory } from './explain-history.js'
import { GatewayListeners, type RunningListener } from './gateway-listeners.js'
import { LocalCertificateAuthority } from './local-certificate-authority.js'
import { ModelServerFleet } from './model-server-fleet.js'
import { createRemotePoolPicker } from './remote-pool-picker.js'
import type { SimulatorProcess } from './simulator-process.js'

export interface StackRuntimeOptions {
  /** Port for each listener; defaults to the declared one (tests pass 0 for OS-chosen ports). */
  listenerPort?: (gateway: Gateway, listener: GatewayListener) => number
  /** Interface the gateway listeners bind (default 0.0.0.0, like a LoadBalancer Service). */
  bindHost?: string
  /** `-` for stdout, a file path, or `off`. */
  accessLog?: string
  /** Status lines for the operator (replica died, …). */
  log?: (line: string) => void
  /** Where maitred's local CA and generated certificates live. */
  stateDir?: string
  scrapeIntervalMs?: number
  /** Override these options of every simulated ModelServer (e.g. a time scale for tests and demos). */
  simulatorOverrides?: Partial<SimOptions>
  maxBodyBytes?: number
  maxHeaderBytes?: number
  headersTimeoutMs?: number
  requestTimeoutMs?: number
  keepAliveTimeoutMs?: number
  retry?: RetryPolicy
  pickerTimeoutMs?: number
  /** How long SIGTERM / a removed port waits for in-flight requests and streams. */
  drainMs?: number
  random?: () => number
  /** Rate-limit counters: in this process by default, or shared (Redis); closed with the runtime. */
  limitStore?: LimitStore
  /** When the counter store does not answer (default fail-closed: 503), and whether admitted answers carry rate-limit headers (default none). */
  rateLimits?: RateLimitBehaviour
  /** API keys for AuthPolicy `apiKey.keyStore`; without one, no key is valid. */
  keyStore?: ApiKeyStore
}

export interface RunningPicker {
  key: string
  deployment: PickerDeployment
  picker: EndpointPicker
  /** What the picker was built from, to keep it (and its state) across reloads that do not change it. */
  fingerprint: string
}

const key = (namespace: string, name: string) => `${namespace}/${name}`
const pickerFingerprint = (d: PickerDeployment) => JSON.stringify([d.name, d.config ?? null, d.objectives ?? null, d.remote ?? null])

/**
 * Turns a derived Stack into running things — simulator processes, pickers, round-robin Services and gateway listeners —
 * and moves between configurations without dropping traffic (`apply`).
 */
export class StackRuntime {
  readonly registry = new Registry()
  readonly pickers = new Map<string, RunningPicker>()
  readonly services = new Map<string, RoundRobin>()
  /** Explained decisions, for `maitred explain` (admin API). */
  readonly explanations = new ExplainHistory()
  /** Requests answered per endpoint, for the live page. */
  readonly traffic = new EndpointTraffic()
  readonly #fleet: ModelServerFleet
  readonly #proxy = new UpstreamProxy()
  readonly #listeners: GatewayListeners
  readonly #limitStore: LimitStore
  readonly #admissionMetrics: AdmissionMetrics
  #stack: Stack
  #ca: Promise<LocalCertificateAuthority> | undefined
  #applying: Promise<unknown> = Promise.resolve()

  private constructor(
    stack: Stack,
    private readonly options: StackRuntimeOptions,
  ) {
    this.#stack = stack
    const log = options.log ?? (() => {})
    this.#fleet = new ModelServerFleet(options.simulatorOverrides, log)
    const metrics = new GatewayMetrics(this.registry)
    const accessLog = createAccessLog(options.accessLog ?? '-')
    // Every finished request: counted in the gateway metrics and the live page's traffic, then logged.
    const finished: AccessLog = (record) => {
      metrics.observe(record)
      this.traffic.observe(record)
      accessLog(record)
    }
    this.#listeners = new GatewayListeners(this.#proxy, finished, () => this.#authority(), {
      bindHost: options.bindHost ?? '0.0.0.0',
      ...(options.listenerPort ? { listenerPort: options.listenerPort } : {}),
      handler: {
        maxBodyBytes: options.maxBodyBytes ?? 32 * 1024 * 1024,
        retry: options.retry ?? DEFAULT_RETRY_POLICY,
        pickerTimeoutMs: options.pickerTimeoutMs ?? 10_000,
        random: options.random ?? Math.random,
      },
      server: {
        maxHeaderBytes: options.maxHeaderBytes ?? 64 * 1024,
        headersTimeoutMs: options.headersTimeoutMs ?? 30_000,
        requestTimeoutMs: options.requestTimeoutMs ?? 300_000,
        keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 65_000,
      },
      drainMs: options.drainMs ?? 30_000,
      log,
    })
    this.#fleet.endpoints.onChange(() => this.#syncMembership())
    this.#limitStore = options.limitStore ?? new MemoryLimitStore()
    this.#admissionMetrics = new AdmissionMetrics(this.registry)
  }

  static async start(stack: Stack, options: StackRuntimeOptions = {}): Promise<StackRuntime> {
    const runtime = new StackRuntime(stack, options)
    try {
      await runtime.#reconcile(stack)
    } catch (err) {
      await runtime.close()
      throw err
    }
    return runtime
  }

  get stack(): Stack {
    return this.#stack
  }

  get listeners(): readonly RunningListener[] {
    return this.#listeners.running
  }

  get endpoints(): EndpointRegistry {
    return this.#fleet.endpoints
  }

  get simulators(): ReadonlyMap<string, SimulatorProcess> {
    return this.#fleet.simulators
  }

  modelServer(id: string): ModelServer | undefined {
    return this.#fleet.server(id)
  }

  /** Moves to a new configuration; requests in flight finish on what they started with. Applies run one at a time. */
  apply(next: Stack): Promise<void> {
    const run = this.#applying.then(() => this.#reconcile(next))
    this.#applying = run.catch(() => {})
    return run
  }

  async #reconcile(next: Stack): Promise<void> {
    const { retired, retiredIds } = await this.#fleet.reconcile(next.modelServers)
    const replacedPickers = this.#reconcilePickers(next)
    this.services.clear()
    for (const s of next.services) this.services.set(key(s.metadata.namespace, s.metadata.name), new RoundRobin())
    this.#stack = next
    this.#syncMembership()
    const pickers = new Map([...this.pickers].map(([k, p]) => [k, p.picker]))
    const admission = new AdmissionTable(next, {
      limitStore: this.#limitStore,
      rateLimits: this.options.rateLimits ?? { failureMode: 'fail-closed', headers: 'none' },
      keyStore: () => this.options.keyStore,
      metrics: this.#admissionMetrics,
      log: this.options.log ?? (() => {}),
    })
    await this.#listeners.apply(next, buildBackendResolver(next, pickers, this.services, this.#fleet.endpoints), admission)
    // Traffic has moved: retire what the new configuration no longer uses, once its in-flight requests are done.
    await Promise.all(retired.map((sim) => this.#proxy.drained(sim.url, this.options.drainMs ?? 30_000).then(() => sim.stop())))
    await Promise.all(replacedPickers.map((p) => p.close()))
    if (retiredIds.length > 0) this.options.log?.(`retired ModelServers ${retiredIds.join(', ')}`)
  }

  /** Keeps pickers whose config did not change (their prefix index and metrics survive a reload); returns the replaced ones. */
  #reconcilePickers(next: Stack): EndpointPicker[] {
    const replaced: EndpointPicker[] = []
    const wanted = new Map(next.pickers.map((d) => [key(d.namespace, d.poolName), d]))
    for (const [k, running] of this.pickers)
      if (wanted.get(k) === undefined || pickerFingerprint(wanted.get(k)!) !== running.fingerprint) {
        replaced.push(running.picker)
        this.pickers.delete(k)
      }
    for (const [k, deployment] of wanted) {
      if (this.pickers.has(k)) {
        this.pickers.get(k)!.deployment = deployment
        continue
      }
      const picker = this.explanations.wrap(
        deployment.remote
          ? createRemotePoolPicker(deployment.remote, this.options.scrapeIntervalMs)
          : createInProcessPicker({
              config: deployment.config,
              poolName: deployment.poolName,
              registry: this.registry,
              ...(deployment.objectives ? { objectives: deployment.objectives } : {}),
              ...(this.options.scrapeIntervalMs ? { scrapeIntervalMs: this.options.scrapeIntervalMs } : {}),
            }),
        k,
      )
      this.pickers.set(k, { key: key(deployment.namespace, deployment.name), deployment, picker, fingerprint: pickerFingerprint(deployment) })
    }
    return replaced
  }

  /** Pools and Services select their endpoints by label, as Kubernetes does. */
  #syncMembership(): void {
    const endpoints = this.#fleet.endpoints
    for (const pool of this.#stack.pools)
      this.pickers.get(key(pool.metadata.namespace, pool.metadata.name))?.picker.setEndpoints(endpoints.select(pool.metadata.namespace, pool.spec.selector.matchLabels))
    for (const service of this.#stack.services)
      this.services.get(key(service.metadata.namespace, service.metadata.name))?.set(endpoints.select(service.metadata.namespace, service.spec.selector))
  }

  #authority(): Promise<LocalCertificateAuthority> {
    this.#ca ??= LocalCertificateAuthority.open(join(this.options.stateDir ?? '.maitred', 'pki'))
    return this.#ca
  }

  /** Requests in flight across all listeners. */
  get inFlight(): number {
    return this.#listeners.inFlight
  }

  /** Stops accepting, drains in-flight requests and streams (up to the drain deadline), then stops pickers and reaps every simulator. */
  async close(): Promise<void> {
    await this.#listeners.close()
    await Promise.all([...this.pickers.values()].map((p) => p.picker.close()))
    await this.#fleet.close()
    await this.#proxy.close()
    await this.#limitStore.close()
  }
}
