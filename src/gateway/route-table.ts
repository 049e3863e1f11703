import type { Gateway, GatewayListener } from '../config/gateway-schema.js'
import { durationToMs } from '../config/object-meta.js'
import type { HTTPRoute, HTTPRouteMatch, HTTPRouteRule } from '../config/httproute-schema.js'
import { hostnameMatches } from '../controller/hostname-match.js'
import { routeStatus } from '../controller/route-status.js'
import type { Stack } from '../controller/stack.js'
import { matchesPathPrefix, trimTrailingSlash } from './path-match.js'

/** One (route, rule, match) triple, pre-compiled and ranked by Gateway API precedence. */
export interface CompiledMatch {
  readonly route: HTTPRoute
  readonly rule: HTTPRouteRule
  readonly ruleIndex: number
  readonly match: HTTPRouteMatch
  readonly hostnames: readonly string[] | undefined
  readonly pathType: 'Exact' | 'PathPrefix' | 'RegularExpression'
  readonly pathValue: string
  readonly pathRegex?: RegExp
  readonly headers: readonly { name: string; value: string; regex?: RegExp }[]
  readonly query: readonly { name: string; value: string; regex?: RegExp }[]
  // Facts the request path needs, derived once per configuration rather than per request:
  /** `namespace/route/rule-name` (or `rule-<index>`), as the access log names the route. */
  readonly routeName: string
  /** `namespace/route`, the backend resolver's key. */
  readonly routeKey: string
  readonly backendWeights: readonly number[]
  /** Gateway API `timeouts.request` and `timeouts.backendRequest` in ms (0 = none). */
  readonly requestTimeoutMs: number
  readonly backendRequestTimeoutMs: number
}

export interface RequestFacts {
  method: string
  /** Normalised path, without query. */
  path: string
  host: string
  headers: Readonly<Record<string, string | string[] | undefined>>
  /** The query parameters (a URLSearchParams, or anything answering `get` — requests without a query skip parsing one). */
  query: Pick<URLSearchParams, 'get'>
}

const anchored = (source: string) => new RegExp(`^(?:${source})$`)

/** The routes attached to one listener, ordered once so that a lookup is the first match (plus hostname ranking). */
export class RouteTable {
  readonly #matches: CompiledMatch[]

  constructor(matches: CompiledMatch[]) {
    this.#matches = matches
  }

  static forListener(stack: Stack, gateway: Gateway, listener: GatewayListener): RouteTable {
    const compiled: { m: CompiledMatch; order: number }[] = []
    stack.routes.forEach((route, order) => {
      const attached = routeStatus(route, stack).some(
        (s) =>
          s.gateway.name === gateway.metadata.name &&
          s.gateway.namespace === gateway.metadata.namespace &&
          s.listeners.includes(listener.name) &&
          s.conditions[0].status === 'True',
      )
      if (!attached) return
      const hostnames = route.spec.hostnames ?? (listener.hostname ? [listener.hostname] : undefined)
      route.spec.rules.forEach((rule, ruleIndex) =>
        rule.matches.forEach((match) => compiled.push({ m: compile(route, rule, ruleIndex, match, hostnames), order })),
      )
    })
    compiled.sort((a, b) => comparePrecedence(a.m, b.m) || a.order - b.order || a.m.ruleIndex - b.m.ruleIndex)
    return new RouteTable(compiled.map((c) => c.m))
  }

  get size(): number {
    return this.#matches.length
  }

  /** The winning match: most specific hostname first, then path/method/header/query precedence, then route age. */
  match(req: RequestFacts): CompiledMatch | undefined {
    let best: CompiledMatch | undefined
    let bestHostRank = -1
    for (const m of this.#matches) {
      const hostRank = hostnameRank(m.hostnames, req.host)
      if (hostRank <= bestHostRank || !matches(m, req)) continue
      best = m
      bestHostRank = hostRank
    }
    return best
  }
}

function compile(route: HTTPRoute, rule: HTTPRouteRule, ruleIndex: number, match: HTTPRouteMatch, hostnames: readonly string[] | undefined): CompiledMatch {
  const pathType = match.path?.type ?? 'PathPrefix'
  const pathValue = match.path?.value ?? '/'
  const nv = (list: HTTPRouteMatch['headers'], lower: boolean) =>
    (list ?? []).map((h) => ({
      name: lower ? h.name.toLowerCase() : h.name,
      value: h.value,
      ...(h.type === 'RegularExpression' ? { regex: anchored(h.value) } : {}),
    }))
  const routeKey = `${route.metadata.namespace}/${route.metadata.name}`
  return {
    route,
    rule,
    ruleIndex,
    match,
    routeKey,
    routeName: `${routeKey}/${rule.name ?? `rule-${ruleIndex}`}`,
    backendWeights: (rule.backendRefs ?? []).map((r) => r.weight),
    requestTimeoutMs: rule.timeouts?.request ? durationToMs(rule.timeouts.request) : 0,
    backendRequestTimeoutMs: rule.timeouts?.backendRequest ? durationToMs(rule.timeouts.backendRequest) : 0,
    hostnames,
    pathType,
    pathValue: pathType === 'PathPrefix' ? trimTrailingSlash(pathValue) : pathValue,
    ...(pathType === 'RegularExpression' ? { pathRegex: anchored(pathValue) } : {}),
    headers: dedupeByName(nv(match.headers, true)),
    query: nv(match.queryParams, false),
  }
}

/** Gateway API: only the first entry for a repeated header name counts. */
function dedupeByName<T extends { name: string }>(list: T[]): T[] {
  const seen = new Set<string>()
  return list.filter((h) => !seen.has(h.name) && seen.add(h.name))
}

const TYPE_RANK = { Exact: 2, PathPrefix: 1, RegularExpression: 0 } as const

/** Negative when `a` takes precedence: Exact, longest prefix, method, most headers, most query params. */
function comparePrecedence(a: CompiledMatch, b: CompiledMatch): number {
  return (
    TYPE_RANK[b.pathType] - TYPE_RANK[a.pathType] ||
    b.pathValue.length - a.pathValue.length ||
    Number(b.match.method !== undefined) - Number(a.match.method !== undefined) ||
    b.headers.length - a.headers.length ||
    b.query.length - a.query.length
  )
}

/** 0 = no hostname constraint, then wildcard by length, exact names highest; -Infinity when the host does not match. */
function hostnameRank(hostnames: readonly string[] | undefined, host: string): number {
  if (hostnames === undefined) return 0
  let rank = -Infinity
  for (const h of hostnames)
    if (hostnameMatches(h, host)) rank = Math.max(rank, h.startsWith('*.') ? h.length : 10_000 + h.length)
  return rank
}

function matches(m: CompiledMatch, req: RequestFacts): boolean {
  if (m.match.method !== undefined && m.match.method !== req.method) return false
  if (m.pathType === 'Exact' ? req.path !== m.pathValue : m.pathType === 'PathPrefix' ? !matchesPathPrefix(req.path, m.pathValue) : !m.pathRegex!.test(req.path))
    return false
  for (const h of m.headers) {
    const raw = req.headers[h.name]
    const value = Array.isArray(raw) ? raw.join(',') : raw
    if (value === undefined || (h.regex ? !h.regex.test(value) : value !== h.value)) return false
  }
  for (const q of m.query) {
    const value = req.query.get(q.name)
    if (value === null || (q.regex ? !q.regex.test(value) : value !== q.value)) return false
  }
  return true
}
