import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { openSqliteKeyStore } from '../keys/sqlite-key-store.js'

const BIN = fileURLToPath(new URL('../../bin/maitred.js', import.meta.url))
const stateDir = mkdtempSync(join(tmpdir(), 'maitred-keys-cli-'))
afterAll(() => rmSync(stateDir, { recursive: true, force: true }))

/** `maitred keys …` as a separate process on the temporary state dir; never throws, so failures can be asserted on. */
async function keys(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, 'keys', ...args], { env: { ...process.env, MAITRED_STATE_DIR: stateDir, MAITRED_KEY_STORE: '' } })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

// Each command is a Node process starting tsx: a couple of seconds apiece on a loaded machine.
describe('maitred keys', { timeout: 90_000 }, () => {
  it('creates a key shown once, lists it by prefix only, revokes it for a gateway holding it cached, reports usage', async () => {
    const created = await keys('create', '--tier', 'premium', '--name', 'laptop', '--expires', '30d', '--models', 'a, b', '-o', 'json')
    expect(created.code).toBe(0)
    const { key, id, keyPrefix, tier, models } = JSON.parse(created.stdout) as { key: string; id: string; keyPrefix: string; tier: string; models: string[] }
    expect(key).toMatch(/^sk-oai-[0-9A-Za-z]{17}_[0-9A-Za-z]{43}$/)
    expect({ tier, models }).toEqual({ tier: 'premium', models: ['a', 'b'] })

    // A gateway in this process shares keys.db with the CLI processes.
    const gateway = openSqliteKeyStore(join(stateDir, 'keys.db'))
    try {
      expect((await gateway.verify(key))?.id).toBe(id)
      gateway.recordUsage(id, { requests: 3, promptTokens: 40, completionTokens: 9 })
      await gateway.flushUsage()

      const list = await keys('list')
      expect(list.code).toBe(0)
      expect(list.stdout).toMatch(/^PREFIX +NAME +TIER +MODELS +CREATED +LAST USED +EXPIRES +STATUS +REQUESTS +PROMPT TOKENS +COMPLETION TOKENS/)
      expect(list.stdout).toMatch(new RegExp(`${keyPrefix.replace(/\./g, '\\.')} +laptop +premium +a,b .* active +3 +40 +9`))
      expect(list.stdout).not.toContain(key.split('_')[1])

      const usage = JSON.parse((await keys('usage', keyPrefix, '-o', 'json')).stdout) as Record<string, unknown>
      expect(usage).toMatchObject({ id, requests: 3, promptTokens: 40, completionTokens: 9, totalTokens: 49 })

      const revoked = await keys('revoke', keyPrefix)
      expect(revoked.stdout.trim()).toBe(`revoked ${keyPrefix} (laptop)`)
      const since = Date.now()
      while ((await gateway.verify(key)) !== undefined) await new Promise((r) => setTimeout(r, 20))
      expect(Date.now() - since).toBeLessThan(1000)
      expect((await keys('list', '-o', 'json')).stdout).toContain('"status": "revoked"')
    } finally {
      await gateway.close()
    }
  })

  it('prints the key alone with -o key, and the table form with a warning on stderr', async () => {
    const alone = await keys('create', '--tier', 'free', '-o', 'key')
    expect(alone.stdout).toMatch(/^sk-oai-[0-9A-Za-z]{17}_[0-9A-Za-z]{43}\n$/)
    const table = await keys('create', '--tier', 'enterprise')
    expect(table.stdout).toMatch(/^key: +sk-oai-\w+\nid: +\w{17}\nprefix: +sk-oai-\w{12}\.\.\.\nname: +-\ntier: +enterprise\nmodels: +\(the tier's\)\nexpires: +never\n$/)
    expect(table.stderr).toContain('only time the key is shown')
  })

  it('refuses unknown tiers, bad expiries and unknown keys, without repeating a key given by mistake', async () => {
    const tier = await keys('create', '--tier', 'gold')
    expect(tier.code).toBe(1)
    expect(tier.stderr).toContain('unknown tier "gold"; one of free, premium, enterprise')
    expect((await keys('create', '--tier', 'free', '--expires', 'soon')).stderr).toContain('invalid expiry "soon"')
    const unknown = await keys('revoke', 'ZZZZZZZZ')
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('no key with an id starting ZZZZZZZZ')
    const mangled = 'sk-oai-0123456789ABCDEFG_' + 'x'.repeat(42) + '!'
    const leak = await keys('usage', mangled)
    expect(leak.code).toBe(1)
    expect(leak.stderr).not.toContain('xxxxxxxx')
  })
})
