import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { z } from 'zod'
import { GatewayError, sendOpenAIError } from '../gateway/openai-error.js'
import { readRequestBody } from '../gateway/request-body.js'
import type { ApiKeyRecord, ApiKeyStore } from './api-key-store.js'
import { AmbiguousKeyError } from './cached-key-store.js'
import { parseExpiry } from './expiry.js'
import { sameSecret } from './key-format.js'
import { keyJson, usageJson } from './key-view.js'
import { DEFAULT_TIER_NAMES } from './tier-names.js'

export interface KeysAdminOptions {
  store: ApiKeyStore
  /** Loopback unless told otherwise. */
  host?: string
  /** 0 for any free port. */
  port: number
  /** The admin token every request must carry as `Authorization: Bearer …`. */
  token: string
  /** Tier names a key may be created with. */
  tiers?: readonly string[]
}

export interface KeysAdminServer {
  port: number
  url: string
  close(): Promise<void>
}

/** maas-api's create body (`POST /v1/api-keys`), plus maitred's tier and models. */
const CreateBody = z
  .object({
    name: z.string().max(256).default(''),
    tier: z.string().min(1),
    expiresIn: z.string().optional(),
    models: z.array(z.string().min(1)).max(1000).optional(),
  })
  .strict()

const MAX_BODY_BYTES = 64 * 1024
const COLLECTION = '/v1/api-keys'

/** An answer: status and JSON, or a GatewayError thrown on the way. */
type Reply = { status: number; body: unknown; headers?: Record<string, string> }

/**
 * The keys admin API, on its own listener and behind its own token, modelled on maas-api: `POST /v1/api-keys` (the key in
 * the answer, once), `GET /v1/api-keys`, `GET|DELETE /v1/api-keys/:id` (DELETE revokes), `GET /v1/api-keys/:id/usage`.
 * `:id` is a key's id or display prefix. Every error is OpenAI-shaped JSON.
 */
export async function startKeysAdminServer(opts: KeysAdminOptions): Promise<KeysAdminServer> {
  if (!opts.token) throw new Error('the keys admin API needs an admin token')
  const tiers = opts.tiers ?? DEFAULT_TIER_NAMES
  const server = createServer((req, res) => {
    handle(req, opts, tiers).then(
      (reply) => {
        const body = JSON.stringify(reply.body)
        res.writeHead(reply.status, { ...reply.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
        res.end(body)
      },
      (err: Error) => fail(res, err),
    )
  })
  const host = opts.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, host, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      }),
  }
}

async function handle(req: IncomingMessage, opts: KeysAdminOptions, tiers: readonly string[]): Promise<Reply> {
  // Authentication first: without the token nobody learns which paths exist.
  const presented = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1]
  if (!presented || !sameSecret(presented, opts.token)) {
    throw new AdminError(401, 'this API needs the admin token as Authorization: Bearer <token>', presented ? 'invalid_admin_token' : 'missing_admin_token', {
      'www-authenticate': 'Bearer realm="maitred-keys-admin"',
    })
  }
  const path = (req.url ?? '/').split('?')[0]!
  const method = req.method ?? 'GET'
  const { store } = opts
  if (path === COLLECTION || path === `${COLLECTION}/`) {
    if (method === 'GET') return { status: 200, body: { object: 'list', data: (await store.list()).map((r) => keyJson(r)) } }
    if (method === 'POST') {
      const input = parseCreate(await readRequestBody(req, MAX_BODY_BYTES), tiers)
      const { key, record } = await store.create(input)
      // The only answer that holds a key: no cache may keep it.
      return { status: 201, body: { key, ...keyJson(record) }, headers: { 'cache-control': 'no-store' } }
    }
    throw notAllowed(method, 'GET, POST')
  }
  const m = /^\/v1\/api-keys\/([^/]+)(\/usage)?\/?$/.exec(path)
  if (!m) throw new GatewayError(404, `no such resource; the keys admin API is under ${COLLECTION}`, 'not_found')
  const record = await lookUp(store, decodeURIComponent(m[1]!))
  if (m[2]) {
    if (method !== 'GET') throw notAllowed(method, 'GET')
    return { status: 200, body: usageJson(record) }
  }
  if (method === 'GET') return { status: 200, body: keyJson(record) }
  if (method === 'DELETE') {
    await store.revoke(record.id)
    return { status: 200, body: keyJson((await store.get(record.id)) ?? record) }
  }
  throw notAllowed(method, 'GET, DELETE')
}

function parseCreate(raw: Buffer, tiers: readonly string[]) {
  let json: unknown
  try {
    json = JSON.parse(raw.toString('utf8'))
  } catch {
    throw new GatewayError(400, 'the body must be JSON: {"name", "tier", "expiresIn"?, "models"?}', 'invalid_json')
  }
  const parsed = CreateBody.safeParse(json)
  if (!parsed.success) {
    throw new GatewayError(400, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), 'invalid_request')
  }
  const { name, tier, expiresIn, models } = parsed.data
  if (!tiers.includes(tier)) throw new GatewayError(400, `tier: unknown tier ${JSON.stringify(tier)}; one of ${tiers.join(', ')}`, 'invalid_tier')
  let expiresAt: Date | undefined
  try {
    expiresAt = expiresIn === undefined ? undefined : parseExpiry(expiresIn)
  } catch (err) {
    throw new GatewayError(400, `expiresIn: ${(err as Error).message}`, 'invalid_expiry')
  }
  return { name, tier, ...(models ? { models } : {}), ...(expiresAt ? { expiresAt } : {}) }
}

async function lookUp(store: ApiKeyStore, ref: string): Promise<ApiKeyRecord> {
  try {
    const r = await store.get(ref)
    if (r) return r
  } catch (err) {
    if (err instanceof AmbiguousKeyError) throw new GatewayError(400, err.message, 'ambiguous_key_id')
    throw err
  }
  throw new GatewayError(404, 'no API key with that id', 'key_not_found')
}

/** A GatewayError with headers of its own (WWW-Authenticate, Allow). Messages never repeat the path: it may hold a key. */
class AdminError extends GatewayError {
  constructor(
    status: number,
    message: string,
    code: string,
    readonly headers: Record<string, string>,
  ) {
    super(status, message, code)
  }
}

function notAllowed(method: string, allow: string): AdminError {
  return new AdminError(405, `${method} is not allowed here; allowed: ${allow}`, 'method_not_allowed', { allow })
}

function fail(res: ServerResponse, err: Error): void {
  if (err instanceof GatewayError) {
    sendOpenAIError(res, err.status, err.message, err.code, err instanceof AdminError ? err.headers : {})
    return
  }
  // The store is down or failed: say so without details that could hold connection strings.
  sendOpenAIError(res, 503, 'the key store is unavailable', 'key_store_unavailable')
}
