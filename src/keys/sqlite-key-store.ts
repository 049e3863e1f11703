import { closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { CachedKeyStore } from './cached-key-store.js'
import { keyTableSchema, type KeyRow, type KeyTable, type UsageDelta } from './key-table.js'


/**
 * The API-key table in a SQLite file (`keys.db` in the state directory by default). WAL mode lets the gateway read while
 * `maitred keys` writes from another process; the busy timeout makes a writer wait for the other instead of failing.
 */
export class SqliteKeyTable implements KeyTable {
  private readonly db: Database.Database
  private readonly stmts

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true })
    // Only hashes are stored, but the file is still nobody else's business: created owner-only (WAL files inherit it).
    closeSync(openSync(path, 'a', 0o600))
    this.db = new Database(path)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('busy_timeout = 5000')
    this.db.exec(keyTableSchema('INTEGER'))
    const bump = this.db.prepare('UPDATE api_key_revision SET revision = revision + 1')
    const insert = this.db.prepare(
      `INSERT INTO api_keys (id, hash, name, tier, models, created_at, last_used_at, expires_at, revoked_at, requests, prompt_tokens, completion_tokens)
       VALUES (@id, @hash, @name, @tier, @models, @created_at, @last_used_at, @expires_at, @revoked_at, @requests, @prompt_tokens, @completion_tokens)`,
    )
    const revoke = this.db.prepare('UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?')
    const addUsage = this.db.prepare(
      `UPDATE api_keys SET requests = requests + @requests, prompt_tokens = prompt_tokens + @promptTokens,
       completion_tokens = completion_tokens + @completionTokens, last_used_at = max(coalesce(last_used_at, 0), @lastUsedAt) WHERE id = @id`,
    )
    this.stmts = {
      insert: this.db.transaction((row: KeyRow) => {
        insert.run(row)
        bump.run()
      }),
      revoke: this.db.transaction((id: string, at: number) => {
        const changed = revoke.run(at, id).changes > 0
        bump.run()
        return changed
      }),
      addUsage: this.db.transaction((deltas: UsageDelta[]) => {
        for (const d of deltas) addUsage.run(d)
      }),
      find: this.db.prepare<[string], KeyRow>('SELECT * FROM api_keys WHERE id = ?'),
      match: this.db.prepare<[string, number], KeyRow>("SELECT * FROM api_keys WHERE id LIKE ? || '%' LIMIT ?"),
      all: this.db.prepare<[], KeyRow>('SELECT * FROM api_keys ORDER BY created_at, id'),
      revision: this.db.prepare<[], { revision: number }>('SELECT revision FROM api_key_revision'),
    }
  }

  async insert(row: KeyRow): Promise<void> {
    this.stmts.insert(row)
  }
  async find(id: string): Promise<KeyRow | undefined> {
    return this.stmts.find.get(id)
  }
  async match(fragment: string, limit: number): Promise<KeyRow[]> {
    return this.stmts.match.all(fragment, limit)
  }
  async all(): Promise<KeyRow[]> {
    return this.stmts.all.all()
  }
  async revoke(id: string, at: number): Promise<boolean> {
    return this.stmts.revoke(id, at)
  }
  async revision(): Promise<number> {
    return this.stmts.revision.get()!.revision
  }
  async addUsage(deltas: UsageDelta[]): Promise<void> {
    this.stmts.addUsage(deltas)
  }
  async close(): Promise<void> {
    this.db.close()
  }
}

export function openSqliteKeyStore(path: string): CachedKeyStore {
  return new CachedKeyStore(new SqliteKeyTable(path))
}
