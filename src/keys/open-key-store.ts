import { join, resolve } from 'node:path'
import type { CachedKeyStore } from './cached-key-store.js'

/** A store URL fit for messages: a PostgreSQL password is masked. */
export function redactStoreUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/, '$1***@')
}

/**
 * The API-key store a URL names: none → SQLite `keys.db` in the state directory; `sqlite:PATH` → that SQLite file;
 * `postgres://…` or `postgresql://…` → PostgreSQL (for several gateway replicas). The drivers load only when used.
 */
export async function openApiKeyStore(url: string | undefined, stateDir: string): Promise<CachedKeyStore> {
  const postgres = url !== undefined && /^postgres(ql)?:\/\//.test(url)
  if (url && !postgres && !/^sqlite:./.test(url)) {
    throw new Error(`unsupported key store ${JSON.stringify(redactStoreUrl(url))}: use sqlite:PATH or postgres://USER@HOST:PORT/DB`)
  }
  const sqlitePath = url ? resolve(url.slice('sqlite:'.length)) : join(stateDir, 'keys.db')
  try {
    if (postgres) return await (await import('./postgres-key-store.js')).openPostgresKeyStore(url)
    return (await import('./sqlite-key-store.js')).openSqliteKeyStore(sqlitePath)
  } catch (err) {
    throw new Error(`cannot open the key store ${postgres ? redactStoreUrl(url) : sqlitePath}: ${(err as Error).message}`)
  }
}
