import type { ApiKeyRecord, ApiKeyStore, CreateKeyInput, CreatedApiKey, KeyUsage } from './api-key-store.js'
import { generateApiKey, hashSecret, idFragment, parseApiKey, sameHash } from './key-format.js'
import { rowToRecord, type KeyTable, type UsageDelta } from './key-table.js'

/** How often verify() asks the table whether anything changed: a revocation anywhere is honoured within this (plus a query). */
export const REVISION_POLL_MS = 250
/** Usage is written in batches this often (and on close): one UPDATE per key per second instead of per request. */
export const USAGE_FLUSH_MS = 1000
/** Cached ids (known or not) at most; the oldest goes first. */
const MAX_CACHED = 10_000
/** Fewer characters than this do not name a key (`keys revoke 1` must not pick one at random). */
const MIN_FRAGMENT = 4

/** A reference (`keys revoke 3f9a`) that names more than one key. */
export class AmbiguousKeyError extends Error {
  constructor(fragment: string) {
    super(`${fragment} matches several keys; give more of the id`)
    this.name = 'AmbiguousKeyError'
  }
}

/** A cached id: its hash and record, or null for an id the table does not have. */
type Entry = { hash: Buffer; record: ApiKeyRecord } | null

/**
 * An ApiKeyStore over a KeyTable, fit for the gateway's hot path. verify() answers from memory: known ids with their hash
 * and record, unknown ids as such (text that is not shaped like a key never reaches the table; a well-formed key with an
 * unknown id costs one query, not one per request). The whole cache is dropped as soon as the table's
 * revision moves (a key created or revoked by any process), which verify() checks at most every REVISION_POLL_MS — so a
 * revocation made anywhere is seen within that, and a key created elsewhere works as soon.
 */
export class CachedKeyStore implements ApiKeyStore {
  private readonly cache = new Map<string, Entry>()
  /**
   * Active keys verified since the cache was last dropped, by the exact string presented: a key's next request costs a map
   * lookup instead of a parse and a SHA-256. A wrong key never gets in (it is hashed and compared in constant time as
   * before), and a lookup reveals nothing of a near miss (V8 compares strings' hashes before their characters). Dropped
   * with the cache, so revocation is seen as soon.
   */
  private readonly verified = new Map<string, ApiKeyRecord>()
  private readonly loading = new Map<string, Promise<Entry>>()
  /** Bumped whenever the cache is dropped, so that a load begun before cannot put back what it read. */
  private generation = 0
  private revision = -1
  private checkedAt = -Infinity
  private checking: Promise<void> | undefined
  private pending = new Map<string, UsageDelta>()
  private flushTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly table: KeyTable,
    private readonly clock: () => number = Date.now,
  ) {}

  async create(input: CreateKeyInput): Promise<CreatedApiKey> {
    const { id, key, hash } = generateApiKey()
    const row = {
      id,
      hash,
      name: input.name ?? '',
      tier: input.tier,
      models: JSON.stringify(input.models ?? []),
      created_at: this.clock(),
      last_used_at: null,
      expires_at: input.expiresAt?.getTime() ?? null,
      revoked_at: null,
      requests: 0,
      prompt_tokens: 0,
      completion_tokens: 0,
    }
    await this.table.insert(row)
    return { key, record: rowToRecord(row) }
  }

  verify(key: string): Promise<ApiKeyRecord | undefined> | ApiKeyRecord | undefined {
    if (this.clock() - this.checkedAt >= REVISION_POLL_MS) return this.checkRevision().then(() => this.verifyKnown(key))
    return this.verifyKnown(key)
  }

  /** A key verified since the last revision change is answered from memory; any other is looked up. */
  private verifyKnown(key: string): Promise<ApiKeyRecord | undefined> | ApiKeyRecord | undefined {
    const known = this.verified.get(key)
    if (known) return this.active(known) ? known : undefined
    return this.verifyFromTable(key)
  }

  private async verifyFromTable(key: string): Promise<ApiKeyRecord | undefined> {
    const parsed = parseApiKey(key)
    if (!parsed) return undefined
    const generation = this.generation
    let entry = this.cache.get(parsed.id)
    if (entry === undefined) entry = await this.load(parsed.id)
    if (!entry || !sameHash(hashSecret(parsed.id, parsed.secret), entry.hash)) return undefined
    const r = entry.record
    if (!this.active(r)) return undefined
    if (generation === this.generation) {
      if (this.verified.size >= MAX_CACHED) this.verified.delete(this.verified.keys().next().value!)
      this.verified.set(key, r)
    }
    return r
  }

  private active(r: ApiKeyRecord): boolean {
    return !r.revokedAt && !(r.expiresAt && r.expiresAt.getTime() <= this.clock())
  }

  async list(): Promise<ApiKeyRecord[]> {
    return (await this.table.all()).map((row) => this.withPending(rowToRecord(row)))
  }

  /** By id, display prefix (`sk-oai-XXXXXXXXXXXX...`), the start of an id (4 characters at least) or the key itself; throws when several keys match. */
  async get(idOrPrefix: string): Promise<ApiKeyRecord | undefined> {
    const fragment = idFragment(idOrPrefix)
    if (!fragment || fragment.length < MIN_FRAGMENT) return undefined
    const rows = await this.table.match(fragment, 2)
    if (rows.length > 1) throw new AmbiguousKeyError(fragment)
    return rows[0] && this.withPending(rowToRecord(rows[0]))
  }

  async revoke(idOrPrefix: string): Promise<boolean> {
    const found = await this.get(idOrPrefix)
    if (!found) return false
    await this.table.revoke(found.id, this.clock())
    // This process knows at once; the others at their next revision check.
    this.dropCache()
    return true
  }

  recordUsage(id: string, usage: KeyUsage): void {
    const d = this.pending.get(id)
    if (d) {
      d.requests += usage.requests
      d.promptTokens += usage.promptTokens
      d.completionTokens += usage.completionTokens
      d.lastUsedAt = this.clock()
    } else {
      this.pending.set(id, { id, ...usage, lastUsedAt: this.clock() })
    }
    // Unref'd: a process with nothing else to do exits; close() writes the rest.
    this.flushTimer ??= setInterval(() => void this.flushUsage().catch(() => {}), USAGE_FLUSH_MS).unref()
  }

  /** Writes the usage gathered so far; if the write fails it is kept for the next one. */
  async flushUsage(): Promise<void> {
    if (this.pending.size === 0) return
    const batch = this.pending
    this.pending = new Map()
    try {
      await this.table.addUsage([...batch.values()])
    } catch (err) {
      for (const d of batch.values()) this.recordUsage(d.id, d)
      throw err
    }
  }

  async close(): Promise<void> {
    clearInterval(this.flushTimer)
    try {
      await this.flushUsage()
    } finally {
      await this.table.close()
    }
  }

  /** One revision query at a time, however many requests wait on it. */
  private checkRevision(): Promise<void> {
    this.checking ??= (async () => {
      const started = this.clock()
      try {
        const revision = await this.table.revision()
        if (revision !== this.revision) {
          this.revision = revision
          this.dropCache()
        }
        this.checkedAt = started
      } finally {
        this.checking = undefined
      }
    })()
    return this.checking
  }

  private dropCache(): void {
    this.cache.clear()
    this.verified.clear()
    this.generation++
  }

  /** One query per id at a time; the answer is cached unless the cache was dropped meanwhile. */
  private load(id: string): Promise<Entry> {
    let p = this.loading.get(id)
    if (p) return p
    const generation = this.generation
    p = this.table.find(id).then(
      (row) => {
        this.loading.delete(id)
        const entry = row ? { hash: Buffer.from(row.hash, 'hex'), record: rowToRecord(row) } : null
        if (generation === this.generation) {
          if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!)
          this.cache.set(id, entry)
        }
        return entry
      },
      (err: unknown) => {
        this.loading.delete(id)
        throw err
      },
    )
    this.loading.set(id, p)
    return p
  }

  /** Usage not yet written counts too, so that this process's own readers (the keys admin API) see it at once. */
  private withPending(r: ApiKeyRecord): ApiKeyRecord {
    const d = this.pending.get(r.id)
    if (!d) return r
    return {
      ...r,
      lastUsedAt: new Date(Math.max(d.lastUsedAt, r.lastUsedAt?.getTime() ?? 0)),
      usage: { requests: r.usage.requests + d.requests, promptTokens: r.usage.promptTokens + d.promptTokens, completionTokens: r.usage.completionTokens + d.completionTokens },
    }
  }
}
