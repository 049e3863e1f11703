import pg from 'pg'
import { CachedKeyStore } from './cached-key-store.js'
import { keyTableSchema, type KeyRow, type KeyTable, type UsageDelta } from './key-table.js'

/** Several replicas may start at once: CREATE TABLE IF NOT EXISTS alone races in PostgreSQL, so they take turns. */
const SCHEMA_LOCK = 0x6d61_6173 // "maas"

/** The API-key table in PostgreSQL, for several gateway replicas sharing their keys. Each change is one atomic statement. */
export class PostgresKeyTable implements KeyTable {
  private constructor(private readonly pool: pg.Pool) {}

  static async open(url: string): Promise<PostgresKeyTable> {
    const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5000 })
    // An idle connection dropped by the server must not take the process down; the next query reconnects.
    pool.on('error', () => {})
    try {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK])
        await client.query(keyTableSchema('BIGINT'))
        await client.query('COMMIT')
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw err
      } finally {
        client.release()
      }
    } catch (err) {
      await pool.end()
      throw err
    }
    return new PostgresKeyTable(pool)
  }

  async insert(row: KeyRow): Promise<void> {
    await this.pool.query(
      `WITH added AS (
         INSERT INTO api_keys (id, hash, name, tier, models, created_at, last_used_at, expires_at, revoked_at, requests, prompt_tokens, completion_tokens)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12))
       UPDATE api_key_revision SET revision = revision + 1`,
      [row.id, row.hash, row.name, row.tier, row.models, row.created_at, row.last_used_at, row.expires_at, row.revoked_at, row.requests, row.prompt_tokens, row.completion_tokens],
    )
  }
  async find(id: string): Promise<KeyRow | undefined> {
    return (await this.pool.query<KeyRow>('SELECT * FROM api_keys WHERE id = $1', [id])).rows[0]
  }
  async match(fragment: string, limit: number): Promise<KeyRow[]> {
    return (await this.pool.query<KeyRow>("SELECT * FROM api_keys WHERE id LIKE $1 || '%' LIMIT $2", [fragment, limit])).rows
  }
  async all(): Promise<KeyRow[]> {
    return (await this.pool.query<KeyRow>('SELECT * FROM api_keys ORDER BY created_at, id')).rows
  }
  async revoke(id: string, at: number): Promise<boolean> {
    const res = await this.pool.query<{ n: number }>(
      `WITH revoked AS (UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 RETURNING id),
            bumped AS (UPDATE api_key_revision SET revision = revision + 1)
       SELECT count(*)::int AS n FROM revoked`,
      [id, at],
    )
    return res.rows[0]!.n > 0
  }
  async revision(): Promise<number> {
    return Number((await this.pool.query<{ revision: string }>('SELECT revision FROM api_key_revision')).rows[0]!.revision)
  }
  /** The whole batch in one statement. */
  async addUsage(deltas: UsageDelta[]): Promise<void> {
    await this.pool.query(
      `UPDATE api_keys AS k SET requests = k.requests + u.requests, prompt_tokens = k.prompt_tokens + u.prompt_tokens,
         completion_tokens = k.completion_tokens + u.completion_tokens, last_used_at = greatest(k.last_used_at, u.last_used_at)
       FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) AS u(id, requests, prompt_tokens, completion_tokens, last_used_at)
       WHERE k.id = u.id`,
      [deltas.map((d) => d.id), deltas.map((d) => d.requests), deltas.map((d) => d.promptTokens), deltas.map((d) => d.completionTokens), deltas.map((d) => d.lastUsedAt)],
    )
  }
  async close(): Promise<void> {
    await this.pool.end()
  }
}

export async function openPostgresKeyStore(url: string): Promise<CachedKeyStore> {
  return new CachedKeyStore(await PostgresKeyTable.open(url))
}
