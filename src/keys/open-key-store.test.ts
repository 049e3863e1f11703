import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openApiKeyStore, redactStoreUrl } from './open-key-store.js'

const dir = mkdtempSync(join(tmpdir(), 'maitred-keys-open-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('openApiKeyStore', () => {
  it('opens keys.db in the state dir by default, and the file a sqlite: URL names', async () => {
    const byDefault = await openApiKeyStore(undefined, join(dir, 'state'))
    const { key } = await byDefault.create({ tier: 'free' })
    await byDefault.close()
    const named = await openApiKeyStore(`sqlite:${join(dir, 'state', 'keys.db')}`, '/nonexistent')
    expect(await named.verify(key)).toBeDefined()
    await named.close()
  })

  it('refuses other URLs, and never repeats a password', async () => {
    await expect(openApiKeyStore('mysql://db', dir)).rejects.toThrow('unsupported key store "mysql://db": use sqlite:PATH or postgres://')
    await expect(openApiKeyStore('sqlite:', dir)).rejects.toThrow('unsupported key store')
    const refused = await openApiKeyStore('postgres://u:hunter2@127.0.0.1:1/x', dir).catch((err: Error) => err)
    expect((refused as Error).message).toMatch(/^cannot open the key store postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x: /)
    expect((refused as Error).message).not.toContain('hunter2')
    expect(redactStoreUrl('postgresql://me:p%40ss@db:5432/keys')).toBe('postgresql://me:***@db:5432/keys')
    expect(redactStoreUrl('postgres://me@db/keys')).toBe('postgres://me@db/keys')
  })
})
