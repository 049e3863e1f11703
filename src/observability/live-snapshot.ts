import { matchesLabels } from '../controller/label-selector.js'
import type { ExplainedDecision } from '../runtime/explain-history.js'
import type { StackRuntime } from '../runtime/stack-runtime.js'
import { stackStatus, type StackStatus } from '../runtime/stack-status.js'

/** What the live page draws, refreshed about once a second. */
export interface LiveSnapshot {
  at: string
  status: StackStatus
  /** By endpoint id: requests answered, their share of all answered requests, and vLLM's prefix-cache hit rate. */
  traffic: Record<string, { requests: number; share: number; prefixHitRate: number | null }>
  /** The last explained routing decisions, newest first. */
  decisions: ExplainedDecision[]
}

/** The sum of a counter's series in a Prometheus text exposition. */
function counter(text: string, name: string): number | undefined {
  let total: number | undefined
  for (const line of text.split('\n')) if (line.startsWith(name) && (line[name.length] === '{' || line[name.length] === ' ')) total = (total ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1))
  return total
}

/** vLLM's prefix-cache hit rate since start (hits / queries, in tokens), or null when the server does not say. */
async function prefixHitRate(url: string): Promise<number | null> {
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(1000) })).text()
    const queries = counter(text, 'vllm:prefix_cache_queries_total')
    const hits = counter(text, 'vllm:prefix_cache_hits_total')
    return queries === undefined || hits === undefined || queries === 0 ? null : hits / queries
  } catch {
    return null
  }
}

/**
 * Declared ModelServers that have no endpoint (their process exited, so they left their pools) drawn as down endpoints:
 * a killed replica stays on the picture, red, instead of vanishing.
 */
function withExitedServers(status: StackStatus, rt: StackRuntime): StackStatus {
  const running = new Set(status.endpoints.map((e) => e.id.split(':')[0]))
  const exited = rt.stack.modelServers
    .filter((ms) => !running.has(`${ms.metadata.namespace}/${ms.metadata.name}`))
    .map((ms) => ({
      id: `${ms.metadata.namespace}/${ms.metadata.name}`,
      address: '-',
      url: ms.spec.external?.url ?? '',
      kind: ms.spec.external ? ('external' as const) : ('simulated' as const),
      labels: { ...ms.metadata.labels },
      pools: rt.stack.pools.filter((p) => p.metadata.namespace === ms.metadata.namespace && matchesLabels(ms.metadata.labels, p.spec.selector.matchLabels)).map((p) => p.metadata.name),
      healthy: false,
      lastError: 'not running (its process exited): removed from its pools',
    }))
  return exited.length === 0 ? status : { ...status, endpoints: [...status.endpoints, ...exited] }
}

/** Builds snapshots, at most one per `maxAgeMs` however many pages poll (each one scrapes every model server). */
export class LiveSnapshots {
  #last: { at: number; snapshot: Promise<LiveSnapshot> } | undefined

  constructor(
    private readonly rt: StackRuntime,
    private readonly maxAgeMs = 500,
  ) {}

  get(): Promise<LiveSnapshot> {
    const now = Date.now()
    if (!this.#last || now - this.#last.at > this.maxAgeMs) this.#last = { at: now, snapshot: this.#build() }
    return this.#last.snapshot
  }

  async #build(): Promise<LiveSnapshot> {
    const status = withExitedServers(stackStatus(this.rt), this.rt)
    const counts = status.endpoints.map((e) => this.rt.traffic.requests(e.address))
    const total = counts.reduce((a, b) => a + b, 0)
    const rates = await Promise.all(status.endpoints.map((e) => (e.healthy ? prefixHitRate(e.url) : Promise.resolve(null))))
    const traffic: LiveSnapshot['traffic'] = {}
    status.endpoints.forEach((e, i) => (traffic[e.id] = { requests: counts[i]!, share: total === 0 ? 0 : counts[i]! / total, prefixHitRate: rates[i]! }))
    return { at: new Date().toISOString(), status, traffic, decisions: this.rt.explanations.recent(10) }
  }
}
