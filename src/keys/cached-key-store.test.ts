import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { CachedKeyStore, REVISION_POLL_MS } from './cached-key-store.js'
import { generateApiKey } from './key-format.js'
import type { KeyTable } from './key-table.js'
import { SqliteKeyTable } from './sqlite-key-store.js'

const dir = mkdtempSync(join(tmpdir(), 'maitred-keys-cache-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const stores: CachedKeyStore[] = []
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close()
})

/** A real SQLite table whose queries are counted. */
function countedTable(file: string) {
  const calls = { find: 0, revision: 0 }
  const table = new SqliteKeyTable(file)
  const counted: KeyTable = new Proxy(table, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        if (prop === 'find' || prop === 'revision') calls[prop]++
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return { counted, calls }
}

function open(file: string, clock?: () => number) {
  const { counted, calls } = countedTable(file)
  const store = new CachedKeyStore(counted, clock)
  stores.push(store)
  return { store, calls }
}

describe('CachedKeyStore: verify() on the hot path', () => {
  it('looks a key up once, then answers from memory (a revision query at most every 250 ms)', async () => {
    const { store, calls } = open(join(dir, 'hot.db'))
    const { key } = await store.create({ tier: 'premium' })
    const started = Date.now()
    for (let i = 0; i < 2000; i++) expect(await store.verify(key)).toBeDefined()
    expect(calls.find).toBe(1)
    expect(calls.revision).toBeLessThanOrEqual(1 + Math.ceil((Date.now() - started) / REVISION_POLL_MS))
  })

  it('answers a key it has verified without a promise until the next revision check is due', async () => {
    let now = 1_000_000
    const { store } = open(join(dir, 'sync.db'), () => now)
    const { key } = await store.create({ tier: 'free' })
    expect(store.verify(key)).toBeInstanceOf(Promise)
    expect(await store.verify(key)).toBeDefined()
    const answer = store.verify(key)
    expect(answer).not.toBeInstanceOf(Promise)
    expect(answer).toMatchObject({ tier: 'free' })
    now += REVISION_POLL_MS
    expect(store.verify(key)).toBeInstanceOf(Promise)
  })

  it('remembers unknown ids and wrong secrets too; never queries for text that is not a key', async () => {
    const { store, calls } = open(join(dir, 'garbage.db'))
    const { record } = await store.create({ tier: 'free' })
    const unknown = generateApiKey().key
    const wrongSecret = `sk-oai-${record.id}_${generateApiKey().secret}`
    for (let i = 0; i < 500; i++) {
      expect(await store.verify(unknown)).toBeUndefined()
      expect(await store.verify(wrongSecret)).toBeUndefined()
    }
    expect(calls.find).toBe(2)
    const before = { ...calls }
    for (let i = 0; i < 500; i++) expect(await store.verify(`Bearer nonsense ${i}`)).toBeUndefined()
    expect(calls).toEqual(before)
  })

  it('makes one query for many concurrent verifies of a key it has not seen', async () => {
    const { store, calls } = open(join(dir, 'concurrent.db'))
    const { key } = await store.create({ tier: 'free' })
    const results = await Promise.all(Array.from({ length: 100 }, () => store.verify(key)))
    expect(results.every((r) => r !== undefined)).toBe(true)
    expect(calls.find).toBe(1)
    expect(calls.revision).toBe(1)
  })

  it('drops its cache when another process revokes or creates a key, as soon as the poll interval has passed', async () => {
    let now = Date.now()
    const file = join(dir, 'revision.db')
    const { store: gateway, calls } = open(file, () => now)
    const { store: cli } = open(file)
    const { key } = await cli.create({ tier: 'premium' })
    expect(await gateway.verify(key)).toBeDefined()
    await cli.revoke(key)
    // Within the interval the cached answer stands (that is the cache's whole point)...
    now += REVISION_POLL_MS - 1
    expect(await gateway.verify(key)).toBeDefined()
    // ...and at the interval the revision has moved: the key is looked up again and refused.
    now += 1
    expect(await gateway.verify(key)).toBeUndefined()
    expect(calls.find).toBe(2)
  })

  it('refuses a key it revoked itself at once, cached or not', async () => {
    const now = Date.now()
    const { store } = open(join(dir, 'self.db'), () => now)
    const { key } = await store.create({ tier: 'free' })
    expect(await store.verify(key)).toBeDefined()
    expect(await store.revoke(key)).toBe(true)
    expect(await store.verify(key)).toBeUndefined()
  })

  it('keeps usage that could not be written for the next flush', async () => {
    const { store } = open(join(dir, 'usage.db'))
    const { record } = await store.create({ tier: 'free' })
    const table = (store as unknown as { table: KeyTable }).table
    const addUsage = table.addUsage
    table.addUsage = () => Promise.reject(new Error('database is locked'))
    store.recordUsage(record.id, { requests: 1, promptTokens: 3, completionTokens: 4 })
    await expect(store.flushUsage()).rejects.toThrow('locked')
    table.addUsage = addUsage
    store.recordUsage(record.id, { requests: 1, promptTokens: 1, completionTokens: 1 })
    await store.flushUsage()
    expect((await store.list())[0]?.usage).toEqual({ requests: 2, promptTokens: 4, completionTokens: 5 })
  })
})
