import { Agent, type Dispatcher } from 'undici'
import type { EndpointMetrics, EndpointRef, EndpointState, UpstreamTls } from '../endpoint.js'
import { engineOf, extractMetrics, resolveEngines, type EngineConfig } from './engine-metrics.js'
import { parsePrometheusText } from './prometheus-text.js'

/**
 * The slice of `fetch` scraping uses (undici's fits; tests inject canned ones). `dispatcher`, when set, is the endpoint's
 * own connection pool carrying its TLS settings, and must be used.
 */
export type ScrapeFetch = (
  url: URL,
  init: { signal: AbortSignal; dispatcher?: Dispatcher },
) => Promise<{ readonly ok: boolean; readonly status: number; text(): Promise<string> }>

export interface EndpointStoreOptions {
  /** Poll interval per endpoint (GIE `--refresh-metrics-interval`, 50 ms). */
  readonly intervalMs: number
  /** Metrics path and scheme (`metrics-data-source`). */
  readonly path: string
  readonly scheme?: 'http' | 'https'
  /** A scrape slower than this fails (and marks the endpoint unhealthy). */
  readonly timeoutMs: number
  readonly engineConfigs: readonly EngineConfig[]
  readonly fetch: ScrapeFetch
  readonly now: () => number
  /** Called on each failed poll (for `datalayer_poll_errors_total`). */
  readonly onPollError?: (endpoint: EndpointRef, error: string) => void
  /** Called once per endpoint and missing signal (GIE logs a missing family once). */
  readonly onMissingMetric?: (endpoint: EndpointRef, what: string) => void
}

interface Tracked {
  ref: EndpointRef
  metrics: EndpointMetrics | undefined
  healthy: boolean
  lastError: string | undefined
  /** Settles after the first scrape attempt, whatever its outcome. */
  readonly firstAttempt: Promise<void>
  readonly controller: AbortController
  /** The scrape in flight, aborted by `stop` (its own signal: see #scrape). */
  scrape: AbortController | undefined
  readonly missingReported: Set<string>
  /** The endpoint's own pool when it has TLS settings (its CA, server name, verification). */
  readonly dispatcher: Agent | undefined
}

/**
 * The data layer's endpoint state: one poller per endpoint scraping `/metrics`, mapping engine names to
 * canonical fields, and marking the endpoint unhealthy while scrapes fail (it comes back on the next success).
 */
export class EndpointStore {
  readonly #tracked = new Map<string, Tracked>()
  readonly #engines
  #closed = false

  constructor(readonly options: EndpointStoreOptions) {
    this.#engines = resolveEngines(options.engineConfigs)
  }

  /** Starts polling new endpoints and stops polling removed ones; returns the ids removed. */
  setEndpoints(refs: readonly EndpointRef[]): string[] {
    const next = new Map(refs.map((r) => [r.id, r]))
    const removed: string[] = []
    for (const [id, t] of this.#tracked) {
      const ref = next.get(id)
      if (ref && ref.url === t.ref.url && sameTls(ref.tls, t.ref.tls)) {
        t.ref = ref // labels may change without a restart
        continue
      }
      stop(t)
      this.#tracked.delete(id)
      if (!ref) removed.push(id)
    }
    if (this.#closed) return removed
    for (const ref of refs) if (!this.#tracked.has(ref.id)) this.#start(ref)
    return removed
  }

  states(): EndpointState[] {
    return [...this.#tracked.values()].map((t) => ({
      endpoint: t.ref,
      metrics: t.metrics,
      healthy: t.healthy,
      ...(t.lastError !== undefined ? { lastError: t.lastError } : {}),
    }))
  }

  /** Waits (at most `timeoutMs`) until every endpoint has been scraped once, so a fresh picker does not pick blind. */
  async firstScrapes(timeoutMs: number): Promise<void> {
    const pending = [...this.#tracked.values()].map((t) => t.firstAttempt)
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.all(pending), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
    clearTimeout(timer)
  }

  close(): void {
    this.#closed = true
    for (const t of this.#tracked.values()) stop(t)
    this.#tracked.clear()
  }

  #start(ref: EndpointRef): void {
    const controller = new AbortController()
    let settleFirst!: () => void
    const tracked: Tracked = {
      ref,
      metrics: undefined,
      healthy: false,
      lastError: undefined,
      firstAttempt: new Promise<void>((resolve) => (settleFirst = resolve)),
      controller,
      scrape: undefined,
      missingReported: new Set(),
      dispatcher: ref.tls && tlsAgent(ref.tls),
    }
    this.#tracked.set(ref.id, tracked)
    const loop = async () => {
      while (!controller.signal.aborted) {
        await this.#scrape(tracked)
        settleFirst()
        await sleep(this.options.intervalMs, controller.signal)
      }
      settleFirst()
    }
    void loop()
  }

  async #scrape(t: Tracked): Promise<void> {
    const { fetch, path, scheme, timeoutMs, now } = this.options
    const url = new URL(path, t.ref.url)
    if (scheme) url.protocol = `${scheme}:`
    // One controller per scrape, aborted by its timer or by `stop`: AbortSignal.any over the endpoint's long-lived signal
    // would leave a dependant behind on it at every scrape (Node 20 keeps them until that signal aborts), 20 a second.
    const scrape = (t.scrape = new AbortController())
    const timer = setTimeout(() => scrape.abort(new DOMException('scrape timed out', 'TimeoutError')), timeoutMs)
    try {
      const signal = scrape.signal
      const res = await fetch(url, t.dispatcher ? { signal, dispatcher: t.dispatcher } : { signal })
      const text = await res.text()
      if (!res.ok) throw new Error(`GET ${url.pathname}: HTTP ${res.status}`)
      if (t.controller.signal.aborted) return
      const engine = this.#engines[engineOf(t.ref)] ?? this.#engines.vllm!
      const { metrics, missing } = extractMetrics(parsePrometheusText(text), engine, now())
      for (const what of missing) {
        if (t.missingReported.has(what)) continue
        t.missingReported.add(what)
        this.options.onMissingMetric?.(t.ref, what)
      }
      t.metrics = metrics
      t.healthy = true
      t.lastError = undefined
    } catch (err) {
      if (t.controller.signal.aborted) return
      t.healthy = false
      t.lastError = describe(err)
      this.options.onPollError?.(t.ref, t.lastError)
    } finally {
      clearTimeout(timer)
      t.scrape = undefined
    }
  }
}

/** A keep-alive pool that trusts the endpoint's CA and checks its server name, as the gateway's proxy does. */
function tlsAgent(tls: UpstreamTls): Agent {
  return new Agent({
    connect: {
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...(tls.serverName ? { servername: tls.serverName } : {}),
      rejectUnauthorized: tls.insecureSkipVerify !== true,
    },
  })
}

const sameTls = (a: UpstreamTls | undefined, b: UpstreamTls | undefined) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)

function stop(t: Tracked): void {
  t.controller.abort()
  t.scrape?.abort()
  void t.dispatcher?.close()
}

function describe(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } }
  if (e.name === 'TimeoutError') return 'scrape timed out'
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err)
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
