import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import type { ExplainRow } from '../picker/endpoint-picker.js'
import type { ExplainedDecision } from '../runtime/explain-history.js'
import type { StackStatus } from '../runtime/stack-status.js'
import { fetchStackStatus, resolveAdmin } from './admin-client.js'

// `maitred explain`: why the picker sends a request where it does — per candidate and profile, each scorer's raw score,
// weight and weighted score, the total, the filters that dropped it, and the pick (the seed's "Pod 1: 11, Pod 2: 25").

interface ExplainOptions {
  data?: string
  file?: string
  path: string
  pool?: string
  url?: string
  header: string[]
  admin?: string
  stateDir?: string
  stack?: string[]
  output: string
}

/** What the command prints, whichever way the decision was obtained. */
export interface Explanation {
  pool: string
  requestId: string
  endpoint: string
  profiles: readonly string[]
  rows: readonly ExplainRow[]
  /** Status of the real request (running-stack mode). */
  status?: number
}

export function registerExplainCommand(program: Command): void {
  program
    .command('explain')
    .description("explain the endpoint picker's decision for a request: every candidate's scores per profile, filters, the pick")
    .option('-d, --data <JSON>', 'request body (OpenAI chat or completions JSON)')
    .option('--file <FILE>', 'read the request body from a file')
    .option('--path <PATH>', 'the path the model server sees', '/v1/chat/completions')
    .option('--pool <NAME>', 'InferencePool, NAMESPACE/NAME or NAME (needed when there are several)')
    .option('--url <URL>', 'gateway URL to send the request to (default: found from the routes to the pool)')
    .option('-H, --header <NAME:VALUE>', 'extra request header, e.g. x-gateway-inference-objective:batch (repeatable)', collect, [])
    .option('--admin <URL>', 'admin API of the running stack (default: from the state dir)')
    .option('--state-dir <DIR>', 'state dir of the running `maitred up`')
    .option('-f, --stack <FILE_OR_DIR...>', 'no running stack: build the pool\'s picker from a stack file (needs --pool; external ModelServers only)')
    .option('-o, --output <FORMAT>', 'table or json', 'table')
    .action(async (opts: ExplainOptions) => {
      const body = await requestBody(opts)
      const headers = parseHeaders(opts.header)
      const explanation = opts.stack ? await explainFromStackFile(opts, body, headers) : await explainThroughGateway(opts, body, headers)
      process.stdout.write(`${opts.output === 'json' ? JSON.stringify(explanation, null, 2) : await render(explanation)}\n`)
    })
}

const collect = (value: string, previous: string[]) => [...previous, value]

async function requestBody(opts: ExplainOptions): Promise<Record<string, unknown>> {
  if ((opts.data === undefined) === (opts.file === undefined)) throw new Error('give the request body with either -d JSON or --file FILE')
  const text = opts.data ?? (await readFile(opts.file!, 'utf8'))
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (err) {
    throw new Error(`the request body is not JSON: ${(err as Error).message}`)
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('the request body must be a JSON object')
  return body as Record<string, unknown>
}

export function parseHeaders(list: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const h of list) {
    const colon = h.indexOf(':')
    if (colon <= 0) throw new Error(`header ${JSON.stringify(h)} is not NAME:VALUE`)
    headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim()
  }
  return headers
}

/**
 * The real path: the request goes through the running gateway with `x-maitred-explain: 1`, generating one token, so the
 * decision (and what it teaches the picker, e.g. the prefix index) is the one a client would get. The full rows are then
 * read from the admin API by request id.
 */
async function explainThroughGateway(opts: ExplainOptions, body: Record<string, unknown>, extra: Record<string, string>): Promise<Explanation> {
  const admin = await resolveAdmin(opts, 'pass --admin URL, or use -f STACK --pool NAME')
  const status = await fetchStackStatus(admin)
  const pool = choosePool(status, opts.pool)
  const url = opts.url ?? gatewayUrlFor(status, pool, opts.path)
  const requestId = randomUUID()
  const { max_completion_tokens: _dropped, ...rest } = body
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...extra, 'x-maitred-explain': '1', 'x-request-id': requestId },
    body: JSON.stringify({ ...rest, max_tokens: 1, stream: false }),
  }).catch((err: Error) => {
    throw new Error(`cannot reach the gateway at ${url}: ${err.message}`)
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`the gateway answered ${res.status}: ${errorMessage(text)}`)
  const found = await fetch(`${admin}/api/v1/explain/${requestId}`)
  if (found.ok) return { ...((await found.json()) as ExplainedDecision), status: res.status }
  // A picker that keeps no rows (e.g. a remote GIE EPP): all there is, is the served endpoint.
  return { pool: `${pool.namespace}/${pool.name}`, requestId, endpoint: res.headers.get('x-gateway-destination-endpoint-served') ?? '?', profiles: [], rows: [], status: res.status }
}

/** No running stack: the pool's picker, built from the stack file over its external endpoints, asked once. */
async function explainFromStackFile(opts: ExplainOptions, body: Record<string, unknown>, headers: Record<string, string>): Promise<Explanation> {
  if (!opts.pool) throw new Error('-f needs --pool NAMESPACE/NAME')
  const [{ loadStackPool }, { createInProcessPicker }] = await Promise.all([import('./stack-pool.js'), import('../picker/in-process-picker.js')])
  const pool = await loadStackPool(opts.stack!, opts.pool)
  const picker = createInProcessPicker({ config: pool.config, poolName: pool.pool, ...(pool.objectives ? { objectives: pool.objectives } : {}) })
  try {
    picker.setEndpoints(pool.endpoints)
    const requestId = randomUUID()
    const decision = await picker.pick({ requestId, path: opts.path, headers, body }, { explain: true })
    picker.complete({ decision, requestId, endpoint: decision.endpoint, status: 200 })
    return { pool: pool.pool, requestId, endpoint: decision.endpoint.address, profiles: decision.profiles, rows: decision.explain ?? [] }
  } finally {
    await picker.close()
  }
}

type PoolStatus = StackStatus['pools'][number]

function choosePool(status: StackStatus, wanted: string | undefined): PoolStatus {
  const names = status.pools.map((p) => `${p.namespace}/${p.name}`)
  if (wanted === undefined) {
    if (status.pools.length === 1) return status.pools[0]!
    throw new Error(status.pools.length === 0 ? 'the running stack has no InferencePool' : `several pools, choose one with --pool: ${names.join(', ')}`)
  }
  const matches = status.pools.filter((p) => `${p.namespace}/${p.name}` === wanted || p.name === wanted)
  if (matches.length !== 1) throw new Error(`${matches.length === 0 ? 'no' : 'more than one'} InferencePool ${wanted} (pools: ${names.join(', ')})`)
  return matches[0]!
}

/**
 * A gateway URL whose route sends `path` to the pool. The status does not carry rewrites, so: a rule path ending in
 * `path` is taken as rewritten to it (KServe's `<prefix>/v1/chat/completions` → `/v1/chat/completions`); otherwise a
 * PathPrefix or Exact match of `path` itself is taken as passed through unchanged.
 */
export function gatewayUrlFor(status: StackStatus, pool: PoolStatus, path: string): string {
  const clientPath = (p: { type: string; value: string }): string | undefined => {
    const value = p.value.replace(/\/+$/, '') || '/'
    if (p.type === 'RegularExpression') return undefined
    if (value.endsWith(path)) return value
    if (p.type === 'Exact') return value === path ? path : undefined
    return value === '/' || path === value || path.startsWith(`${value}/`) ? path : undefined
  }
  for (const route of status.routes) {
    if (route.namespace !== pool.namespace) continue
    for (const rule of route.rules) {
      if (!rule.backends.includes(`InferencePool/${pool.name}`)) continue
      const target = rule.paths.map(clientPath).find((p) => p !== undefined)
      if (target === undefined) continue
      for (const parent of route.parents) {
        const gateway = status.gateways.find((g) => g.name === parent.gateway.name && g.namespace === parent.gateway.namespace)
        const listeners = gateway?.listeners.filter((l) => parent.listeners.includes(l.name)) ?? []
        const listener = listeners.find((l) => l.protocol === 'HTTP') ?? listeners[0]
        if (listener) return `${listener.url.replace(/\/+$/, '')}${target}`
      }
    }
  }
  throw new Error(`no route sends ${path} to InferencePool ${pool.namespace}/${pool.name}; pass the gateway URL with --url`)
}

function errorMessage(text: string): string {
  try {
    return (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text
  } catch {
    return text
  }
}

async function render(e: Explanation): Promise<string> {
  const { formatExplainTable } = await import('../picker/framework/explain.js')
  const head = [
    `pool ${e.pool}  request ${e.requestId}`,
    `profiles run: ${e.profiles.join(', ') || '-'}  picked: ${e.endpoint}`,
  ]
  return [...head, '', e.rows.length > 0 ? formatExplainTable(e.rows) : '(the picker returned no explain rows)'].join('\n')
}
