import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CachedKeyStore } from './cached-key-store.js'
import { startKeysAdminServer, type KeysAdminServer } from './keys-admin-api.js'
import { openSqliteKeyStore } from './sqlite-key-store.js'

const TOKEN = 'admin-token-for-tests'
const dir = mkdtempSync(join(tmpdir(), 'maitred-keys-admin-'))
let store: CachedKeyStore
let server: KeysAdminServer

beforeAll(async () => {
  store = openSqliteKeyStore(join(dir, 'keys.db'))
  server = await startKeysAdminServer({ store, port: 0, token: TOKEN, tiers: ['free', 'premium', 'gold'] })
})
afterAll(async () => {
  await server.close()
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

async function call(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, any> }
}

/** OpenAI's error shape, with the given status and code. */
function expectError(r: { status: number; json: Record<string, any> }, status: number, code: string) {
  expect(r.status).toBe(status)
  expect(r.json).toEqual({ error: { message: expect.any(String), type: expect.any(String), param: null, code } })
}

describe('keys admin API', () => {
  it('answers 401 without the admin token, with a wrong one, or another scheme, whatever the path', async () => {
    for (const [token, code] of [
      [null, 'missing_admin_token'],
      ['wrong', 'invalid_admin_token'],
      [TOKEN + 'x', 'invalid_admin_token'],
    ] as const) {
      const r = await call('GET', '/v1/api-keys', undefined, token)
      expectError(r, 401, code)
      expect(r.json.error.type).toBe('authentication_error')
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="maitred-keys-admin"')
    }
    const basic = await fetch(`${server.url}/v1/api-keys`, { headers: { authorization: `Basic ${TOKEN}` } })
    expect(basic.status).toBe(401)
    expectError(await call('GET', '/nowhere', undefined, null), 401, 'missing_admin_token')
  })

  it('creates a key (201, shown once, not cached), lists, gets, reports usage and revokes it', async () => {
    const created = await call('POST', '/v1/api-keys', { name: 'ci', tier: 'premium', expiresIn: '90d', models: ['m1'] })
    expect(created.status).toBe(201)
    expect(created.headers.get('cache-control')).toBe('no-store')
    const { key, id, keyPrefix } = created.json as { key: string; id: string; keyPrefix: string }
    expect(key).toMatch(/^sk-oai-[0-9A-Za-z]{17}_[0-9A-Za-z]{43}$/)
    expect(created.json).toMatchObject({ name: 'ci', tier: 'premium', models: ['m1'], status: 'active', keyPrefix: `sk-oai-${id.slice(0, 12)}...` })
    expect(Date.parse(created.json.expiresAt as string) - Date.now()).toBeGreaterThan(89 * 86_400_000)
    expect((await store.verify(key))?.id).toBe(id)

    const list = await call('GET', '/v1/api-keys')
    expect(list.status).toBe(200)
    expect(list.json.object).toBe('list')
    expect(list.json.data.map((k: { id: string }) => k.id)).toContain(id)
    expect(JSON.stringify(list.json)).not.toContain(key.split('_')[1])

    for (const ref of [id, encodeURIComponent(keyPrefix)]) expect((await call('GET', `/v1/api-keys/${ref}`)).json).toMatchObject({ id, tier: 'premium', usage: { requests: 0 } })

    store.recordUsage(id, { requests: 2, promptTokens: 30, completionTokens: 12 })
    const usage = await call('GET', `/v1/api-keys/${id}/usage`)
    expect(usage.status).toBe(200)
    expect(usage.json).toMatchObject({ id, keyPrefix, tier: 'premium', requests: 2, promptTokens: 30, completionTokens: 12, totalTokens: 42, lastUsedAt: expect.any(String) })

    const revoked = await call('DELETE', `/v1/api-keys/${id}`)
    expect(revoked.status).toBe(200)
    expect(revoked.json).toMatchObject({ id, status: 'revoked', revokedAt: expect.any(String) })
    expect(await store.verify(key)).toBeUndefined()
    expect((await call('GET', `/v1/api-keys/${id}`)).json.status).toBe('revoked')
  })

  it('refuses bad bodies with 400 and says which field', async () => {
    const cases: [unknown, string, RegExp][] = [
      ['{not json', 'invalid_json', /JSON/],
      [{ name: 'x' }, 'invalid_request', /tier/],
      [{ tier: 'premium', name: 3 }, 'invalid_request', /name/],
      [{ tier: 'premium', extra: true }, 'invalid_request', /extra/],
      [{ tier: 'premium', models: 'm1' }, 'invalid_request', /models/],
      [{ tier: 'platinum' }, 'invalid_tier', /free, premium, gold/],
      [{ tier: 'free', expiresIn: '3 weeks' }, 'invalid_expiry', /expiresIn/],
      [{ tier: 'free', expiresIn: '2001-01-01' }, 'invalid_expiry', /not in the future/],
    ]
    for (const [body, code, message] of cases) {
      const r = await call('POST', '/v1/api-keys', body)
      expectError(r, 400, code)
      expect(r.json.error.type).toBe('invalid_request_error')
      expect(r.json.error.message).toMatch(message)
    }
    // The configured tiers are the ones accepted.
    expect((await call('POST', '/v1/api-keys', { tier: 'gold' })).status).toBe(201)
  })

  it('answers 404 for unknown keys and paths, 405 with Allow for other methods, 413 for a body over 64 KiB', async () => {
    expectError(await call('GET', '/v1/api-keys/AAAAAAAAAAAAAAAAA'), 404, 'key_not_found')
    expectError(await call('DELETE', '/v1/api-keys/AAAAAAAAAAAAAAAAA'), 404, 'key_not_found')
    expectError(await call('GET', '/v1/api-keys/AAAAAAAAAAAAAAAAA/usage'), 404, 'key_not_found')
    expectError(await call('GET', '/v1/models'), 404, 'not_found')
    const { json } = await call('POST', '/v1/api-keys', { tier: 'free' })
    const put = await call('PUT', '/v1/api-keys', { tier: 'free' })
    expectError(put, 405, 'method_not_allowed')
    expect(put.headers.get('allow')).toBe('GET, POST')
    const post = await call('POST', `/v1/api-keys/${json.id}`, {})
    expectError(post, 405, 'method_not_allowed')
    expect(post.headers.get('allow')).toBe('GET, DELETE')
    expect((await call('DELETE', `/v1/api-keys/${json.id}/usage`)).headers.get('allow')).toBe('GET')
    expectError(await call('POST', '/v1/api-keys', { tier: 'free', name: 'x'.repeat(70 * 1024) }), 413, 'request_too_large')
  })

  it('answers 503 without details when the store cannot be reached', async () => {
    const broken = openSqliteKeyStore(join(dir, 'broken.db'))
    const down = await startKeysAdminServer({ store: broken, port: 0, token: TOKEN })
    await broken.close()
    try {
      const res = await fetch(`${down.url}/v1/api-keys`, { headers: { authorization: `Bearer ${TOKEN}` } })
      expect(res.status).toBe(503)
      expect(await res.json()).toEqual({ error: { message: 'the key store is unavailable', type: 'server_error', param: null, code: 'key_store_unavailable' } })
    } finally {
      await down.close()
    }
  })

  it('refuses to start without a token', async () => {
    await expect(startKeysAdminServer({ store, port: 0, token: '' })).rejects.toThrow(/admin token/)
  })
})
