import { createHash } from 'node:crypto'
import type { Secret } from '../config/secret-schema.js'
import { matchesLabels } from '../controller/label-selector.js'
import type { IdentitySource, ResolvedIdentity } from './identity-source.js'

const digest = (key: string) => createHash('sha256').update(key).digest('base64')

/**
 * API keys held in Secrets (Authorino's apiKey): every Opaque Secret with an `api_key` entry whose labels match the
 * selector, in the policy's namespace unless `allNamespaces`. Keys are looked up by their SHA-256, so the lookup reveals
 * nothing about a wrong key's closeness. The identity is the Secret without its data: `metadata.name`, `.labels`,
 * `.annotations`.
 */
export class SecretKeyIdentity implements IdentitySource {
  readonly needsCredential = true
  readonly #byDigest = new Map<string, Record<string, unknown>>()

  constructor(secrets: readonly Secret[], selector: Record<string, string>, namespace: string | undefined) {
    for (const s of secrets) {
      if (s.type !== 'Opaque' || s.values.api_key === undefined) continue
      if (namespace !== undefined && s.metadata.namespace !== namespace) continue
      if (!matchesLabels(s.metadata.labels, selector)) continue
      const { name, namespace: ns, labels = {}, annotations = {} } = s.metadata
      this.#byDigest.set(digest(s.values.api_key), { metadata: { name, namespace: ns, labels, annotations } })
    }
  }

  resolve(credential: string | undefined): ResolvedIdentity | undefined {
    if (!credential) return undefined
    const identity = this.#byDigest.get(digest(credential))
    return identity && { identity: structuredClone(identity) }
  }
}
