import type { ApiKeyRecord, ApiKeyStore } from '../keys/api-key-store.js'
import type { IdentitySource, ResolvedIdentity } from './identity-source.js'

/**
 * API keys from maitred's key store. The identity is what MaaS exported: `userid` (the key's id, never the key),
 * `tier`, the display `prefix`, the key's `name` and `models`.
 */
export class KeyStoreIdentity implements IdentitySource {
  readonly needsCredential = true
  /** One identity per cached key record, shared by the key's requests (never changed: see CompiledAuthPolicy). */
  readonly #identities = new WeakMap<ApiKeyRecord, ResolvedIdentity>()

  constructor(private readonly store: () => ApiKeyStore | undefined) {}

  resolve(credential: string | undefined): Promise<ResolvedIdentity | undefined> | ResolvedIdentity | undefined {
    const store = this.store()
    if (!credential || !store) return undefined
    const key = store.verify(credential)
    return key instanceof Promise ? key.then((k) => this.#identity(k)) : this.#identity(key)
  }

  #identity(key: ApiKeyRecord | undefined): ResolvedIdentity | undefined {
    if (!key) return undefined
    let resolved = this.#identities.get(key)
    if (!resolved) this.#identities.set(key, (resolved = { identity: { userid: key.id, tier: key.tier, prefix: key.prefix, name: key.name, models: key.models }, key }))
    return resolved
  }
}
