import type { ApiKeyRecord } from './api-key-store.js'

export type KeyStatus = 'active' | 'revoked' | 'expired'

export function keyStatus(r: ApiKeyRecord, now = Date.now()): KeyStatus {
  if (r.revokedAt) return 'revoked'
  return r.expiresAt && r.expiresAt.getTime() <= now ? 'expired' : 'active'
}

/** A key as `keys list -o json` and the keys admin API show it: everything but the key (which no record holds). */
export function keyJson(r: ApiKeyRecord, now = Date.now()) {
  return {
    id: r.id,
    keyPrefix: r.prefix,
    name: r.name,
    tier: r.tier,
    models: r.models,
    status: keyStatus(r, now),
    createdAt: r.createdAt.toISOString(),
    lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
    expiresAt: r.expiresAt?.toISOString() ?? null,
    revokedAt: r.revokedAt?.toISOString() ?? null,
    usage: { ...r.usage },
  }
}

/** A key's usage, as `keys usage -o json` and `GET /v1/api-keys/:id/usage` show it. */
export function usageJson(r: ApiKeyRecord) {
  return {
    id: r.id,
    keyPrefix: r.prefix,
    tier: r.tier,
    ...r.usage,
    totalTokens: r.usage.promptTokens + r.usage.completionTokens,
    lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
  }
}
