import { createHash } from 'node:crypto'
import { afterEach, expect, it } from 'vitest'
import type { CachedKeyStore } from './cached-key-store.js'
import { generateApiKey } from './key-format.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * What every key store must do, run against SQLite and PostgreSQL alike. `open` gives a new store instance (its own
 * connection) on the same database each time it is called.
 */
export function keyStoreContract(open: () => Promise<CachedKeyStore>): void {
  const opened: CachedKeyStore[] = []
  const store = async () => {
    const s = await open()
    opened.push(s)
    return s
  }
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close()
  })

  it('creates a key shown once: sk-oai-ID_SECRET, its record and listing hold only the prefix', async () => {
    const s = await store()
    const { key, record } = await s.create({ tier: 'premium', name: 'ci', models: ['qwen/qwen3-0.6b'] })
    expect(key).toMatch(/^sk-oai-[0-9A-Za-z]{17}_[0-9A-Za-z]{43}$/)
    expect(record).toMatchObject({ tier: 'premium', name: 'ci', models: ['qwen/qwen3-0.6b'], prefix: `sk-oai-${key.slice(7, 19)}...` })
    expect(record.usage).toEqual({ requests: 0, promptTokens: 0, completionTokens: 0 })
    const listed = await s.list()
    expect(listed.map((r) => r.id)).toContain(record.id)
    const secret = key.split('_')[1]!
    expect(JSON.stringify(listed)).not.toContain(secret)
    // Not even the stored hash leaves the store.
    const hash = createHash('sha256').update(`${record.id}\x00${secret}`).digest('hex')
    expect(JSON.stringify(listed)).not.toContain(hash)
  })

  it('verifies the key and nothing else: wrong secret, unknown id, garbage, another format', async () => {
    const s = await store()
    const { key, record } = await s.create({ tier: 'free' })
    expect((await s.verify(key))?.id).toBe(record.id)
    expect(await s.verify(key)).toMatchObject({ tier: 'free', name: '' })
    const last = key.at(-1) === 'a' ? 'b' : 'a'
    expect(await s.verify(key.slice(0, -1) + last)).toBeUndefined()
    expect(await s.verify(generateApiKey().key)).toBeUndefined()
    expect(await s.verify(`sk-oai-${record.id}_${generateApiKey().secret}`)).toBeUndefined()
    for (const bad of ['', 'Bearer x', key + 'x', key.slice(0, -1), key.replace('sk-oai-', 'sk-'), `${record.id}`]) expect(await s.verify(bad)).toBeUndefined()
  })

  it('finds a key by id, display prefix, start of the id or the key itself; revokes it once', async () => {
    const s = await store()
    const { key, record } = await s.create({ tier: 'enterprise', name: 'batch' })
    for (const ref of [record.id, record.prefix, record.prefix.replace(/\.+$/, ''), record.id.slice(0, 6), key]) expect((await s.get(ref))?.id).toBe(record.id)
    expect(await s.get(record.id.slice(0, 3))).toBeUndefined()
    expect(await s.get('no-such-key')).toBeUndefined()
    expect(await s.revoke(generateApiKey().id)).toBe(false)
    expect(await s.revoke(record.prefix)).toBe(true)
    expect(await s.verify(key)).toBeUndefined()
    const revoked = await s.get(record.id)
    expect(revoked?.revokedAt).toBeInstanceOf(Date)
    // Revoking again keeps the first revocation's time.
    expect(await s.revoke(record.id)).toBe(true)
    expect((await s.get(record.id))?.revokedAt?.getTime()).toBe(revoked?.revokedAt?.getTime())
  })

  it('refuses a key once it has expired', async () => {
    const s = await store()
    const { key, record } = await s.create({ tier: 'free', expiresAt: new Date(Date.now() + 300) })
    expect(record.expiresAt).toBeInstanceOf(Date)
    expect(await s.verify(key)).toBeDefined()
    await sleep(350)
    expect(await s.verify(key)).toBeUndefined()
  })

  it('adds up usage in batches, with last used, visible to another instance once flushed and after reopening', async () => {
    const a = await store()
    const { record } = await a.create({ tier: 'premium' })
    const before = Date.now()
    a.recordUsage(record.id, { requests: 1, promptTokens: 10, completionTokens: 5 })
    a.recordUsage(record.id, { requests: 1, promptTokens: 7, completionTokens: 3 })
    // The writing process sees its pending usage at once.
    expect((await a.get(record.id))?.usage).toEqual({ requests: 2, promptTokens: 17, completionTokens: 8 })
    const b = await store()
    expect((await b.get(record.id))?.usage.requests).toBe(0)
    await a.flushUsage()
    const seen = await b.get(record.id)
    expect(seen?.usage).toEqual({ requests: 2, promptTokens: 17, completionTokens: 8 })
    expect(seen?.lastUsedAt?.getTime()).toBeGreaterThanOrEqual(before)
    a.recordUsage(record.id, { requests: 1, promptTokens: 1, completionTokens: 1 })
    await a.close()
    opened.splice(opened.indexOf(a), 1)
    expect((await (await store()).list()).find((r) => r.id === record.id)?.usage).toEqual({ requests: 3, promptTokens: 18, completionTokens: 9 })
  })

  it('flushes usage by itself within about a second', async () => {
    const a = await store()
    const b = await store()
    const { record } = await a.create({ tier: 'free' })
    a.recordUsage(record.id, { requests: 1, promptTokens: 2, completionTokens: 3 })
    await sleep(1500)
    expect((await b.get(record.id))?.usage).toEqual({ requests: 1, promptTokens: 2, completionTokens: 3 })
  })

  it('sees a revocation made through another instance within 1 s, and a key created there', async () => {
    const gateway = await store()
    const admin = await store()
    const { key } = await admin.create({ tier: 'premium' })
    // The gateway has the key cached, and an unknown key too.
    for (let i = 0; i < 5; i++) expect(await gateway.verify(key)).toBeDefined()
    expect(await gateway.verify(generateApiKey().key)).toBeUndefined()
    const later = await admin.create({ tier: 'free' })
    expect(await admin.revoke(key)).toBe(true)
    const revokedAt = Date.now()
    while ((await gateway.verify(key)) !== undefined) {
      expect(Date.now() - revokedAt).toBeLessThan(1000)
      await sleep(10)
    }
    expect(Date.now() - revokedAt).toBeLessThan(1000)
    expect(await gateway.verify(later.key)).toBeDefined()
  })
}
