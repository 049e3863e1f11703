import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { keyStoreContract } from './key-store-contract.js'
import { openPostgresKeyStore } from './postgres-key-store.js'

/** The local server CI starts (trust auth); each run works in a database of its own, dropped afterwards. */
const ADMIN_URL = process.env.MAITRED_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test'
const database = `maitred_keys_${randomBytes(6).toString('hex')}`
const url = Object.assign(new URL(ADMIN_URL), { pathname: `/${database}` }).toString()

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.end()
    return true
  } catch (err) {
    console.warn(`PostgreSQL key store tests skipped: ${ADMIN_URL} unreachable (${(err as Error).message})`)
    return false
  }
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

describe.skipIf(!(await reachable()))('PostgreSQL key store', () => {
  beforeAll(() => admin(`CREATE DATABASE ${database}`))
  afterAll(() => admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`))

  describe('contract', () => keyStoreContract(() => openPostgresKeyStore(url)))

  it('creates its tables once when several replicas start together', async () => {
    const stores = await Promise.all([1, 2, 3, 4].map(() => openPostgresKeyStore(url)))
    const { key } = await stores[0]!.create({ tier: 'free' })
    for (const s of stores) expect(await s.verify(key)).toBeDefined()
    for (const s of stores) await s.close()
  })
})
