import type { ApiKeyRecord, KeyUsage } from './api-key-store.js'
import { displayPrefix } from './key-format.js'

/** One row of the `api_keys` table, as both databases hold it (times in epoch milliseconds; PostgreSQL's BIGINTs arrive as strings). */
export interface KeyRow {
  id: string
  hash: string
  name: string
  tier: string
  /** JSON array of model names. */
  models: string
  created_at: number | string
  last_used_at: number | string | null
  expires_at: number | string | null
  revoked_at: number | string | null
  requests: number | string
  prompt_tokens: number | string
  completion_tokens: number | string
}

export interface UsageDelta extends KeyUsage {
  id: string
  lastUsedAt: number
}

/**
 * The SQL underneath a key store (SQLite or PostgreSQL). Every change that can alter what verify() answers (insert,
 * revoke) also bumps a single revision number in the same transaction, so that other processes notice it cheaply.
 */
export interface KeyTable {
  insert(row: KeyRow): Promise<void>
  find(id: string): Promise<KeyRow | undefined>
  /** Rows whose id starts with `fragment` (base62 only, so no LIKE wildcards), at most `limit`. */
  match(fragment: string, limit: number): Promise<KeyRow[]>
  all(): Promise<KeyRow[]>
  /** Sets revoked_at unless already set; false when there is no such id. */
  revoke(id: string, at: number): Promise<boolean>
  revision(): Promise<number>
  addUsage(deltas: UsageDelta[]): Promise<void>
  close(): Promise<void>
}

/** The tables, the same in both databases but for the integer type (SQLite's INTEGER is already 64-bit). */
export function keyTableSchema(int: 'INTEGER' | 'BIGINT'): string {
  return `
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  name TEXT NOT NULL,
  tier TEXT NOT NULL,
  models TEXT NOT NULL,
  created_at ${int} NOT NULL,
  last_used_at ${int},
  expires_at ${int},
  revoked_at ${int},
  requests ${int} NOT NULL DEFAULT 0,
  prompt_tokens ${int} NOT NULL DEFAULT 0,
  completion_tokens ${int} NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS api_key_revision (id INTEGER PRIMARY KEY CHECK (id = 1), revision ${int} NOT NULL);
INSERT INTO api_key_revision VALUES (1, 0) ON CONFLICT DO NOTHING;
`
}

const time = (v: number | string | null) => (v === null ? undefined : new Date(Number(v)))

export function rowToRecord(row: KeyRow): ApiKeyRecord {
  return {
    id: row.id,
    prefix: displayPrefix(row.id),
    name: row.name,
    tier: row.tier,
    models: JSON.parse(row.models) as string[],
    createdAt: new Date(Number(row.created_at)),
    lastUsedAt: time(row.last_used_at),
    expiresAt: time(row.expires_at),
    revokedAt: time(row.revoked_at),
    usage: { requests: Number(row.requests), promptTokens: Number(row.prompt_tokens), completionTokens: Number(row.completion_tokens) },
  }
}
