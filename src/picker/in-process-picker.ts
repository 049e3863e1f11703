import type { Registry } from 'prom-client'
import { Agent, request as undiciRequest } from 'undici'
import { parse as parseYaml } from 'yaml'
import { readPrefixMatch } from './datalayer/approx-prefix-indexer.js'
import { EndpointStore, type ScrapeFetch } from './datalayer/endpoint-store.js'
import { InFlightTracker } from './datalayer/in-flight.js'
import { DEFAULT_PICKER_CONFIG_YAML } from './default-config.js'
import type { EndpointRef } from './endpoint.js'
import { PickerError, type Decision, type EndpointPicker, type PickOptions, type PickOutcome, type PickRequest } from './endpoint-picker.js'
import { EppMetrics } from './epp-metrics.js'
import { loadEndpointPickerConfig, type LoadedConfig } from './framework/config-loader.js'
import { instantiatePlugins, isEndpointAware, isPoolWatcher } from './framework/plugin-set.js'
import { Scheduler } from './framework/scheduler.js'
import type { Endpoint, PromptReader, RequestMutations, SchedulingRequest } from './framework/types.js'
import { hasInFlightTimeout } from './plugins/active-request-scorer.js'
import type { EngineConfig } from './datalayer/engine-metrics.js'
import type { MetricsDataSourceParams } from './plugins/metrics-data-source.js'

export interface InProcessPickerOptions {
  /** A parsed EndpointPickerConfig object; undefined for the built-in default. */
  readonly config: unknown
  readonly poolName: string
  /** Base scrape interval (GIE `--refresh-metrics-interval`, 50 ms); a data source's `interval` overrides it. */
  readonly scrapeIntervalMs?: number
  readonly scrapeTimeoutMs?: number
  readonly registry?: Registry
  readonly now?: () => number
  readonly random?: () => number
  /** Scrape client; default: undici's fetch over the picker's own keep-alive pool. */
  readonly fetch?: ScrapeFetch
  /** InferenceObjective name → priority (negative = sheddable), looked up from `x-gateway-inference-objective`. */
  readonly objectives?: Readonly<Record<string, number>>
}

/** Headers naming the request's InferenceObjective: llm-d HEAD, then GIE v1.x. */
const OBJECTIVE_HEADERS = ['x-llm-d-inference-objective', 'x-gateway-inference-objective'] as const
const DEFAULT_INTERVAL_MS = 50
const NO_FALLBACKS: readonly EndpointRef[] = []
const IN_FLIGHT_TTL_MS = 120_000

/**
 * The endpoint picker in the gateway's process: a data layer scraping each endpoint, and the plugin
 * scheduler of the config run once per request over an immutable snapshot of it.
 */
export function createInProcessPicker(options: InProcessPickerOptions): EndpointPicker & { readonly config: LoadedConfig } {
  const doc = options.config === undefined ? parseYaml(DEFAULT_PICKER_CONFIG_YAML) : options.config
  const { config, errors } = loadEndpointPickerConfig(doc)
  // One problem a line, as `maitred validate` prints them (messages may hold `;` and `,`).
  if (!config) throw new Error(`invalid EndpointPickerConfig:${errors.map((e) => `\n  ${e.path || '(root)'}: ${e.message}`).join('')}`)
  return new InProcessPicker(config, options)
}

class InProcessPicker implements EndpointPicker {
  readonly #now: () => number
  readonly #random: () => number
  readonly #scheduler: Scheduler
  readonly #store: EndpointStore
  readonly #inFlight: InFlightTracker
  readonly #metrics: EppMetrics | undefined
  readonly #pool
  #sequence = 0
  #agent: Agent | undefined

  constructor(
    readonly config: LoadedConfig,
    readonly options: InProcessPickerOptions,
  ) {
    this.#now = options.now ?? Date.now
    this.#random = options.random ?? Math.random
    const plugins = instantiatePlugins(config, { now: this.#now, random: this.#random })
    this.#metrics = options.registry ? EppMetrics.for(options.registry) : undefined
    const metrics = this.#metrics
    this.#scheduler = new Scheduler(plugins, metrics && ((point, plugin) => metrics.pluginDuration.labels(point, plugin.type, plugin.name)))
    const all = [...plugins.plugins.values()]
    const source = all.find((p) => p.type === 'metrics-data-source') as { params?: MetricsDataSourceParams } | undefined
    const extractor = all.find((p) => p.type === 'core-metrics-extractor') as { engineConfigs?: readonly EngineConfig[] } | undefined
    // A plugin's requestTimeout (active-request-scorer) bounds how long an unfinished request counts as in flight.
    const timeouts = all.filter(hasInFlightTimeout).map((p) => p.inFlightTimeoutMs)
    this.#inFlight = new InFlightTracker(timeouts.length > 0 ? Math.max(...timeouts) : IN_FLIGHT_TTL_MS)
    this.#store = new EndpointStore({
      intervalMs: source?.params?.interval ?? options.scrapeIntervalMs ?? DEFAULT_INTERVAL_MS,
      path: source?.params?.path ?? '/metrics',
      ...(source?.params?.scheme ? { scheme: source.params.scheme } : {}),
      timeoutMs: options.scrapeTimeoutMs ?? 1000,
      engineConfigs: extractor?.engineConfigs ?? [],
      fetch: options.fetch ?? this.#scrapeFetch(source?.params?.insecureSkipVerify ?? true),
      now: this.#now,
      ...(metrics ? { onPollError: (e: EndpointRef) => metrics.pollErrors.inc({ name: options.poolName, endpoint: e.id }) } : {}),
    })
    this.#pool = {
      poolName: options.poolName,
      endpointStates: () => this.endpointStates(),
      prefixIndexSize: () => all.reduce((n, p) => n + ((p as Partial<{ prefixIndexSize(): number }>).prefixIndexSize?.() ?? 0), 0),
    }
    metrics?.pools.add(this.#pool)
  }

  /** Synchronous (no promise per request, so no timeout to arm), except while waiting for the first scrape. */
  pick(request: PickRequest, options: PickOptions = {}): Decision | Promise<Decision> {
    const body = request.body
    const model = body?.model
    if (body !== undefined && (typeof model !== 'string' || model === '')) {
      throw this.#fail(new PickerError(400, 'the request body has no "model" field', 'bad_request'), '')
    }
    const targetModel = typeof model === 'string' ? model : ''
    const candidates = this.#candidates(options.subset)
    if (candidates.length === 0 && this.#store.states().some((s) => s.metrics === undefined && s.lastError === undefined)) {
      // A picker that just started has not scraped yet: wait for the first round rather than reject.
      return this.#store
        .firstScrapes(this.options.scrapeTimeoutMs ?? 1000)
        .then(() => this.#decide(request, options, body, targetModel, this.#candidates(options.subset)))
    }
    return this.#decide(request, options, body, targetModel, candidates)
  }

  #decide(request: PickRequest, options: PickOptions, body: Record<string, unknown> | undefined, targetModel: string, candidates: Endpoint[]): Decision {
    if (candidates.length === 0) {
      const why = options.subset ? `none of the endpoints ${options.subset.join(', ')} is eligible` : 'no healthy endpoints'
      throw this.#fail(new PickerError(503, `${why} in pool ${this.options.poolName}`, 'rejected-no-endpoints'), targetModel)
    }
    if (body === undefined) {
      // A header-only request (e.g. GET) goes to a random endpoint, as GIE does.
      const e = candidates[Math.floor(this.#random() * candidates.length)]!
      return { endpoint: e.ref, fallbacks: [], headers: {}, profiles: [] }
    }
    const now = this.#now()
    const priority = this.#priority(request)
    if (priority < 0 && this.#scheduler.plugins.saturationDetector.saturation(candidates, now) >= 1) {
      throw this.#fail(new PickerError(429, 'system saturated, sheddable request dropped', 'rejected-saturated'), targetModel)
    }
    const prompt = promptText(body, this.#promptChars())
    const sreq: SchedulingRequest = {
      requestId: request.requestId || `picker-${++this.#sequence}`,
      path: request.path,
      headers: request.headers,
      body,
      targetModel,
      prompt: prompt.text,
      promptLength: prompt.length,
      inputTokens: Math.ceil(prompt.length / 4),
      priority,
      now,
      random: this.#random,
    }
    const started = performance.now()
    let out
    try {
      out = this.#scheduler.schedule(sreq, candidates, options.explain === true)
    } catch (err) {
      throw this.#fail(err instanceof PickerError ? err : new PickerError(500, (err as Error).message, 'internal'), targetModel)
    }
    const mutations: RequestMutations = { headers: {}, removeHeaders: new Set(), responseHeaders: {} }
    for (const plugin of this.#scheduler.plugins.preRequests) plugin.preRequest(out.cycle, sreq, out.result, mutations)
    const targets = out.result.profileResults.get(out.result.primaryProfile)?.targets ?? []
    const primary = targets[0]
    if (!primary) throw this.#fail(new PickerError(503, 'no endpoint chosen', 'rejected-no-endpoints'), targetModel)
    const ticket = this.#inFlight.add(primary.ref.id, sreq.inputTokens, now)
    if (this.#metrics) {
      const prefix = readPrefixMatch(out.cycle)
      if (prefix && prefix.totalBlocks > 0) {
        const matched = prefix.matchedBlocks.get(primary.ref.id) ?? 0
        this.#metrics.prefixHitRatio.labels().observe(matched / prefix.totalBlocks)
        this.#metrics.prefixHitBytes.labels().observe(matched * prefix.blockSizeChars)
      }
      this.#metrics.schedulerE2e.labels().observe((performance.now() - started) / 1000)
      this.#metrics.requests.labels(targetModel, targetModel).inc()
      const port = primary.ref.address.slice(primary.ref.address.lastIndexOf(':') + 1)
      this.#metrics.schedulerAttempts.labels('success', targetModel, primary.ref.name, primary.ref.namespace, port).inc()
    }
    // Built field by field: spreads of conditional objects allocate one object each, on every request.
    const decision: { -readonly [K in keyof Decision]: Decision[K] } = { endpoint: primary.ref, fallbacks: NO_FALLBACKS, headers: mutations.headers, profiles: out.profilesRun, ticket }
    if (targets.length > 1) decision.fallbacks = targets.slice(1).map((e) => e.ref)
    if (mutations.removeHeaders.size > 0) decision.removeHeaders = [...mutations.removeHeaders]
    for (const _ in mutations.responseHeaders) {
      decision.responseHeaders = mutations.responseHeaders
      break
    }
    if (out.explain) decision.explain = out.explain
    if (mutations.afterResponse) decision.afterResponse = mutations.afterResponse
    return decision
  }

  complete(outcome: PickOutcome): void {
    this.#inFlight.remove(outcome.decision.ticket)
    const after = outcome.decision.afterResponse
    if (after) for (const run of after) run(this.#now())
    const metrics = this.#metrics
    const model = outcome.model
    if (!metrics || model === undefined || outcome.status >= 400) return
    if (outcome.durationMs !== undefined) metrics.requestDuration.labels(model, model).observe(outcome.durationMs / 1000)
    if (outcome.promptTokens !== undefined) metrics.inputTokens.labels(model, model).observe(outcome.promptTokens)
    if (outcome.completionTokens !== undefined) metrics.outputTokens.labels(model, model).observe(outcome.completionTokens)
  }

  setEndpoints(endpoints: readonly EndpointRef[]): void {
    const removed = this.#store.setEndpoints(endpoints)
    for (const plugin of this.#scheduler.plugins.plugins.values()) {
      if (isEndpointAware(plugin)) for (const id of removed) plugin.endpointRemoved(id)
      if (isPoolWatcher(plugin)) plugin.endpointsChanged(endpoints)
    }
    for (const id of removed) this.#inFlight.forget(id)
  }

  endpointStates() {
    return this.#store.states()
  }

  async close(): Promise<void> {
    this.#store.close()
    for (const plugin of this.#scheduler.plugins.plugins.values()) if (isPoolWatcher(plugin)) plugin.close()
    await this.#agent?.close()
    this.#metrics?.pools.delete(this.#pool)
  }

  #candidates(subset: readonly string[] | undefined): Endpoint[] {
    this.#inFlight.expire(this.#now())
    const allowed = subset ? new Set(subset) : undefined
    const out: Endpoint[] = []
    for (const s of this.#store.states()) {
      if (!s.healthy || !s.metrics || (allowed && !allowed.has(s.endpoint.address))) continue
      const load = this.#inFlight.load(s.endpoint.id)
      out.push({ ref: s.endpoint, metrics: s.metrics, inFlightRequests: load.requests, inFlightTokens: load.tokens })
    }
    return out
  }

  /**
   * undici's request (not its WHATWG fetch, which costs several times more per call, 20 times a second per endpoint) over
   * a keep-alive pool of its own (HTTPS without verification); an endpoint with TLS settings brings its own.
   */
  #scrapeFetch(insecureSkipVerify: boolean): ScrapeFetch {
    const agent = (this.#agent = new Agent({ connect: { rejectUnauthorized: !insecureSkipVerify } }))
    return async (url, init) => {
      const res = await undiciRequest(url, { dispatcher: init.dispatcher ?? agent, signal: init.signal })
      return { ok: res.statusCode >= 200 && res.statusCode < 300, status: res.statusCode, text: () => res.body.text() }
    }
  }

  /** How much prompt text any plugin reads (the prefix plugins' hashing window); 0 when none does. */
  #promptChars(): number {
    let max = 0
    for (const p of this.#scheduler.plugins.plugins.values()) max = Math.max(max, (p as Partial<PromptReader>).maxPromptChars?.() ?? 0)
    return max
  }

  #priority(request: PickRequest): number {
    for (const h of OBJECTIVE_HEADERS) {
      const name = request.headers[h]
      if (name !== undefined) return this.options.objectives?.[name] ?? 0
    }
    return 0
  }

  #fail(err: PickerError, model: string): PickerError {
    this.#metrics?.requestErrors.labels(model, model, err.code).inc()
    if (err.status !== 400) this.#metrics?.schedulerAttempts.labels('failure', model, '', '', '').inc()
    return err
  }
}

/**
 * What prefix hashing reads: the completions prompt, or the JSON of chat messages (GIE v1.1+), and its length.
 * Only the first `maxChars` characters are ever hashed, so longer strings are cut before serialising: a cut string
 * still serialises to at least `maxChars` characters, so the first `maxChars` of the text are exactly those of the
 * full JSON. `length` adds back what was cut (escapes in the cut part are not counted).
 */
export function promptText(body: Readonly<Record<string, unknown>>, maxChars = Infinity): { text: string; length: number } {
  const value = body.prompt ?? body.messages
  if (typeof value === 'string') return { text: value.length > maxChars ? value.slice(0, maxChars) : value, length: value.length }
  if (value === undefined) return { text: '', length: 0 }
  // The replacer costs a call per value, so it is used only when some string is long enough to be cut.
  if (!hasStringLongerThan(value, maxChars)) {
    const text = JSON.stringify(value)
    return { text, length: text.length }
  }
  let cut = 0
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'string' || v.length <= maxChars) return v
    cut += v.length - maxChars
    return v.slice(0, maxChars)
  })
  return { text, length: text.length + cut }
}

/** A for-in walk: Object.values would allocate an array per message, on every request. */
function hasStringLongerThan(value: unknown, max: number): boolean {
  if (typeof value === 'string') return value.length > max
  if (typeof value !== 'object' || value === null) return false
  if (Array.isArray(value)) {
    for (const v of value) if (hasStringLongerThan(v, max)) return true
    return false
  }
  const object = value as Record<string, unknown>
  for (const key in object) if (hasStringLongerThan(object[key], max)) return true
  return false
}
