import type { ApiKeyRecord } from '../keys/api-key-store.js'

/** A resolved identity: what `auth.identity` is in CEL, plus the key record when it came from the key store. */
export interface ResolvedIdentity {
  identity: Record<string, unknown>
  key?: ApiKeyRecord
}

/** One authentication method (apiKey, jwt, anonymous): the identity a credential proves, or undefined. */
export interface IdentitySource {
  /** anonymous needs no credential. */
  readonly needsCredential: boolean
  resolve(credential: string | undefined): Promise<ResolvedIdentity | undefined> | ResolvedIdentity | undefined
}

export const anonymousIdentity: IdentitySource = {
  needsCredential: false,
  resolve: () => ({ identity: { anonymous: true } }),
}
