/** What the gateway and the `keys` CLI know of an API key; never the key itself (only its display prefix). */
export interface ApiKeyRecord {
  /** Stable id (MaaS's key_id): the part of the key that is stored in clear and acts as the hash's salt. */
  id: string
  /** What humans see: `sk-…` plus the first characters of the id and `...`. */
  prefix: string
  name: string
  tier: string
  /** Models this key may call (HuggingFace or `namespace/name`); empty = whatever its tier allows. */
  models: string[]
  createdAt: Date
  lastUsedAt?: Date
  expiresAt?: Date
  revokedAt?: Date
  usage: KeyUsage
}

export interface KeyUsage {
  requests: number
  promptTokens: number
  completionTokens: number
}

export interface CreateKeyInput {
  tier: string
  name?: string
  expiresAt?: Date
  models?: string[]
}

/** The only time the key string exists outside the client: returned once by create(). */
export interface CreatedApiKey {
  key: string
  record: ApiKeyRecord
}

/**
 * The API-key store (SQLite by default, PostgreSQL for several gateway replicas). Keys are stored only as a salted hash
 * and compared in constant time. A revocation made through any process sharing the store is seen by verify() in every
 * other process within 1 s.
 */
export interface ApiKeyStore {
  create(input: CreateKeyInput): Promise<CreatedApiKey>
  /**
   * The record of an active key (not revoked, not expired), or undefined for anything else. Rejects only when the store
   * itself cannot be reached (a 503 for the gateway, not a 401). Its `usage` is as of when the record was cached. A key
   * already verified comes back without a promise (the gateway's hot path: no microtask per request).
   */
  verify(key: string): Promise<ApiKeyRecord | undefined> | ApiKeyRecord | undefined
  list(): Promise<ApiKeyRecord[]>
  get(idOrPrefix: string): Promise<ApiKeyRecord | undefined>
  /** false when no such key. */
  revoke(idOrPrefix: string): Promise<boolean>
  /** Adds to a key's usage and sets last used; may be batched, but is flushed by close(). */
  recordUsage(id: string, usage: KeyUsage): void
  close(): Promise<void>
}
