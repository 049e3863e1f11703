import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose'
import type { IdentitySource, ResolvedIdentity } from './identity-source.js'

/**
 * JWTs verified against the issuer's JWKS (`jwksUrl`, or found by OIDC discovery from `issuerUrl`). jose caches the key
 * set and fetches it again when a token names a `kid` it does not know (key rotation), at most once a second. The
 * identity is the token's payload.
 */
export class JwtIdentity implements IdentitySource {
  readonly needsCredential = true
  #keys: Promise<JWTVerifyGetKey> | undefined
  #discoveredAt = 0

  constructor(private readonly options: { issuerUrl?: string | undefined; jwksUrl?: string | undefined; ttl?: number | undefined }) {}

  async resolve(credential: string | undefined): Promise<ResolvedIdentity | undefined> {
    if (!credential) return undefined
    try {
      const { payload } = await jwtVerify(credential, await this.#keySet(), this.options.issuerUrl ? { issuer: this.options.issuerUrl } : {})
      return { identity: payload as Record<string, unknown> }
    } catch {
      return undefined
    }
  }

  /** The key set; with issuerUrl, discovery runs once (again after `ttl` seconds, when set). A failed discovery is retried. */
  #keySet(): Promise<JWTVerifyGetKey> {
    const ttlMs = (this.options.ttl ?? 0) * 1000
    if (this.#keys && !(ttlMs > 0 && Date.now() - this.#discoveredAt > ttlMs)) return this.#keys
    this.#discoveredAt = Date.now()
    const keys = this.#discover().then((url) => createRemoteJWKSet(new URL(url), { cooldownDuration: 1000, timeoutDuration: 5000 }))
    keys.catch(() => (this.#keys = undefined))
    return (this.#keys = keys)
  }

  async #discover(): Promise<string> {
    if (this.options.jwksUrl) return this.options.jwksUrl
    const issuer = this.options.issuerUrl!.replace(/\/$/, '')
    const res = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) })
    if (!res.ok) throw new Error(`OIDC discovery at ${issuer}: HTTP ${res.status}`)
    const config = (await res.json()) as { jwks_uri?: unknown }
    if (typeof config.jwks_uri !== 'string') throw new Error(`OIDC discovery at ${issuer}: no jwks_uri`)
    return config.jwks_uri
  }
}
