import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { authPolicySchema, type AuthPolicy } from '../config/authpolicy-schema.js'
import { secretSchema } from '../config/secret-schema.js'
import { AdmissionDenial } from '../gateway/admission.js'
import type { ApiKeyRecord, ApiKeyStore } from '../keys/api-key-store.js'
import { CompiledAuthPolicy, type AuthDependencies } from './auth-policy-engine.js'
import type { CelContext } from './cel.js'
import { readCredential } from './credentials.js'

/** A key store of one key, for the engine alone (the real stores are tested in src/keys). */
function oneKeyStore(key: string, record: Partial<ApiKeyRecord>): ApiKeyStore {
  const full: ApiKeyRecord = { id: 'k1', prefix: 'sk-oai-k1...', name: 'n', tier: 'free', models: [], createdAt: new Date(), usage: { requests: 0, promptTokens: 0, completionTokens: 0 }, ...record }
  return {
    verify: (k) => Promise.resolve(k === key ? full : undefined),
    create: () => Promise.reject(new Error('unused')),
    list: () => Promise.resolve([full]),
    get: () => Promise.resolve(full),
    revoke: () => Promise.resolve(true),
    recordUsage: () => {},
    close: () => Promise.resolve(),
  }
}

function policy(yaml: string, deps: Partial<AuthDependencies> = {}): CompiledAuthPolicy {
  const p: AuthPolicy = authPolicySchema.parse({ apiVersion: 'kuadrant.io/v1', kind: 'AuthPolicy', metadata: { name: 'p', namespace: 'ns' }, spec: parseYaml(yaml) })
  return new CompiledAuthPolicy('AuthPolicy/ns/p', { rules: p.spec.rules, when: p.spec.when }, 'ns', { keyStore: () => undefined, secrets: [], tiers: new Map(), ...deps })
}

function request(headers: Record<string, string>, path = '/v1/chat/completions', query = '') {
  const q = query ? new URLSearchParams(query.slice(1)) : undefined
  const req = { method: 'POST', path, query, host: 'gw', headers }
  const context: CelContext = { request: { path, url_path: path, query, method: 'POST', host: 'gw', headers } }
  return { context, read: (source: Parameters<typeof readCredential>[0]) => readCredential(source, req, q) }
}

/** The refusal of `run`, thrown at once or as a rejection (authenticate answers a known identity without a promise). */
async function denial(run: () => unknown): Promise<AdmissionDenial> {
  const err = await Promise.resolve().then(run).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(AdmissionDenial)
  return err as AdmissionDenial
}

describe('AuthPolicy: apiKey from the key store', () => {
  const store = oneKeyStore('sk-good', { tier: 'premium' })
  const p = policy(
    `
targetRef: {kind: Gateway, name: g}
rules:
  authentication:
    keys: {apiKey: {keyStore: {}}, credentials: {customHeader: {name: X-Api-Key}}}
  response:
    success:
      filters:
        identity: {json: {properties: {userid: {expression: auth.identity.userid}, tier: {expression: auth.identity.tier}}}}
`,
    { keyStore: () => store },
  )

  it('exports the identity the filters name, and strips the credential header', async () => {
    const { context, read } = request({ 'x-api-key': 'sk-good' })
    const auth = await p.authenticate(context, read)
    expect(auth.exported).toEqual({ userid: 'k1', tier: 'premium' })
    expect([...p.stripHeaders]).toEqual(['x-api-key'])
  })

  it('refuses a missing or wrong key with 401 and WWW-Authenticate', async () => {
    const none = request({})
    const missing = await denial(() => p.authenticate(none.context, none.read))
    expect(missing.status).toBe(401)
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="maitred"')
    expect(JSON.parse(missing.body).error.code).toBe('missing_api_key')
    const { context, read } = request({ 'x-api-key': 'sk-bad' })
    expect(JSON.parse((await denial(() => p.authenticate(context, read))).body).error.code).toBe('invalid_api_key')
  })
})

describe('AuthPolicy: one key, many requests', () => {
  const store = oneKeyStore('sk-good', { tier: 'premium' })
  const p = policy(
    `
targetRef: {kind: Gateway, name: g}
rules:
  authentication:
    keys: {apiKey: {keyStore: {}}, overrides: {via: {expression: request.path}}}
  response:
    success:
      filters:
        identity: {json: {properties: {tier: {expression: auth.identity.tier}, via: {expression: auth.identity.via}}}}
`,
    { keyStore: () => store },
  )

  it('extends each request\'s own copy of the identity the key store shares, and exports what each request saw', async () => {
    const first = request({ authorization: 'Bearer sk-good' }, '/one')
    const second = request({ authorization: 'Bearer sk-good' }, '/two')
    const a = await p.authenticate(first.context, first.read)
    const b = await p.authenticate(second.context, second.read)
    expect([a.resolved.identity.via, b.resolved.identity.via]).toEqual(['/one', '/two'])
    expect([a.exported, b.exported]).toEqual([
      { tier: 'premium', via: '/one' },
      { tier: 'premium', via: '/two' },
    ])
  })
})

describe('AuthPolicy: CEL authorization and response customisation', () => {
  const secrets = [
    secretSchema.parse({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'alice', namespace: 'ns', labels: { app: 'llm' }, annotations: { groups: 'gold,staff' } }, stringData: { api_key: 'alice-key' } }),
    secretSchema.parse({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'bob', namespace: 'ns', labels: { app: 'llm' }, annotations: { groups: 'free' } }, stringData: { api_key: 'bob-key' } }),
    secretSchema.parse({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'eve', namespace: 'other', labels: { app: 'llm' } }, stringData: { api_key: 'eve-key' } }),
  ]
  const p = policy(
    `
targetRef: {kind: Gateway, name: g}
rules:
  authentication:
    secrets: {apiKey: {selector: {matchLabels: {app: llm}}}, credentials: {queryString: {name: api_key}}}
  authorization:
    gold-only:
      patternMatching:
        patterns:
        - predicate: 'auth.identity.metadata.annotations.groups.split(",").exists(g, g == "gold")'
        - predicate: 'request.method == "POST" && request.path.startsWith("/v1/")'
  response:
    unauthorized:
      code: 451
      headers: {X-Denied-For: {expression: auth.identity.metadata.name}}
      body: {value: '{"error":{"message":"gold members only","type":"permission_error","code":"gold_only"}}'}
    unauthenticated:
      message: {value: 'who are you?'}
`,
    { secrets },
  )

  it('admits a Secret\'s key whose annotations pass the CEL patterns (credential in the query)', async () => {
    const { context, read } = request({}, '/v1/chat/completions', '?api_key=alice-key&x=1')
    const auth = await p.authenticate(context, read)
    expect((auth.resolved.identity.metadata as { name: string }).name).toBe('alice')
    expect(p.stripQuery).toEqual(['api_key'])
  })

  it('answers the policy\'s own unauthorized response when a pattern fails', async () => {
    const { context, read } = request({}, '/v1/chat/completions', '?api_key=bob-key')
    const d = await denial(() => p.authenticate(context, read))
    expect(d.status).toBe(451)
    expect(d.headers['x-denied-for']).toBe('bob')
    expect(JSON.parse(d.body).error.code).toBe('gold_only')
  })

  it('only knows Secrets of its own namespace, and words its 401 as told', async () => {
    const { context, read } = request({}, '/v1/chat/completions', '?api_key=eve-key')
    const d = await denial(() => p.authenticate(context, read))
    expect(d.status).toBe(401)
    expect(JSON.parse(d.body).error.message).toBe('who are you?')
  })
})

describe('AuthPolicy: jwt against a JWKS served locally', () => {
  const servers: Server[] = []
  afterAll(() => servers.forEach((s) => s.close()))

  it('verifies tokens, falls back to anonymous at a lower priority, and refetches the JWKS for an unknown kid', async () => {
    const first = await generateKeyPair('RS256')
    const second = await generateKeyPair('RS256')
    const jwks: { keys: JWK[] } = { keys: [{ ...(await exportJWK(first.publicKey)), kid: 'one', alg: 'RS256' }] }
    let fetches = 0
    const server = createServer((req, res) => {
      if (req.url === '/.well-known/openid-configuration') return void res.end(JSON.stringify({ jwks_uri: `${base}/jwks` }))
      fetches++
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify(jwks))
    })
    servers.push(server)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const p = policy(`
targetRef: {kind: Gateway, name: g}
rules:
  authentication:
    oidc: {jwt: {issuerUrl: "${base}"}}
    guest: {anonymous: {}, priority: 1}
  authorization:
    named-users-only:
      when: [{predicate: '!has(auth.identity.anonymous)'}]
      patternMatching: {patterns: [{predicate: 'auth.identity.sub.startsWith("user-")'}]}
`)
    const sign = (key: CryptoKey, kid: string, sub: string) => new SignJWT({ sub }).setProtectedHeader({ alg: 'RS256', kid }).setIssuer(base).setExpirationTime('5m').sign(key)
    const as = async (token: string | undefined) => {
      const { context, read } = request(token ? { authorization: `Bearer ${token}` } : {})
      return p.authenticate(context, read)
    }
    expect((await as(await sign(first.privateKey, 'one', 'user-1'))).resolved.identity.sub).toBe('user-1')
    expect((await as(undefined)).resolved.identity).toEqual({ anonymous: true })
    expect((await denial(async () => as(await sign(first.privateKey, 'one', 'robot')))).status).toBe(403)
    // Rotation: the issuer publishes a new key; a token signed with it names a kid the cache does not have.
    await new Promise((r) => setTimeout(r, 1100))
    jwks.keys.push({ ...(await exportJWK(second.publicKey)), kid: 'two', alg: 'RS256' })
    const before = fetches
    expect((await as(await sign(second.privateKey, 'two', 'user-2'))).resolved.identity.sub).toBe('user-2')
    expect(fetches).toBe(before + 1)
    // A token signed by a key the issuer never published is not a user: it gets the anonymous fallback.
    const stranger = await generateKeyPair('RS256')
    expect((await as(await sign(stranger.privateKey, 'one', 'user-3'))).resolved.identity).toEqual({ anonymous: true })
  })
})
