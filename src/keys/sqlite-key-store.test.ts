import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { keyStoreContract } from './key-store-contract.js'
import { openSqliteKeyStore } from './sqlite-key-store.js'

const dir = mkdtempSync(join(tmpdir(), 'maitred-keys-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('SQLite key store', () => {
  // One file for the whole contract (each test reads only its own keys); every instance opens its own connection.
  describe('contract', () => keyStoreContract(async () => openSqliteKeyStore(join(dir, 'contract.db'))))

  it('keeps its file owner-only, in WAL mode', async () => {
    const file = join(dir, 'mode', 'keys.db')
    const s = openSqliteKeyStore(file)
    await s.create({ tier: 'free' })
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(statSync(`${file}-wal`).isFile()).toBe(true)
    await s.close()
  })
})
