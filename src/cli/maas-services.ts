import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { usesKeyStore } from '../controller/derive-tier-limits.js'
import type { Stack } from '../controller/stack.js'
import type { ApiKeyStore } from '../keys/api-key-store.js'
import type { LimitStore } from '../ratelimit/limit-store.js'
import type { FailureMode, RateLimitBehaviour, RateLimitHeadersMode } from '../ratelimit/rate-limiter.js'

export interface MaasOptions {
  keyStore?: string
  keysAdminPort: string
  ratelimitStore: string
  ratelimitPrefix: string
  /** Checked by the command line's choices. */
  ratelimitFailureMode: FailureMode
  ratelimitHeaders: RateLimitHeadersMode
}

/** What `maitred up` runs besides the stack for the MaaS door: the key store and its admin API, the rate-limit counters. */
export interface MaasServices {
  keyStore: ApiKeyStore | undefined
  limitStore: LimitStore
  rateLimits: RateLimitBehaviour
  keysAdmin: { url: string; tokenFile: string } | undefined
  close(): Promise<void>
}

/**
 * Opens the rate-limit counter store (memory, or Redis shared by replicas) and — when an AuthPolicy takes keys from the
 * key store — the key store and the keys admin API on its own port, behind `$MAITRED_ADMIN_TOKEN` or a generated token
 * written to `<state dir>/keys-admin-token` (its path is printed; the token never is).
 */
export async function openMaasServices(stack: Stack, opts: MaasOptions, dir: string, host: string, ephemeral: boolean, log: (line: string) => void): Promise<MaasServices> {
  const rateLimits: RateLimitBehaviour = { failureMode: opts.ratelimitFailureMode, headers: opts.ratelimitHeaders }
  const limitStore = await openLimitStore(opts.ratelimitStore, opts.ratelimitPrefix, log)
  const closers: (() => Promise<void>)[] = [() => limitStore.close()]
  const close = async () => {
    for (const c of closers.reverse()) await c()
  }
  try {
    if (!stack.authPolicies.some(usesKeyStore)) return { keyStore: undefined, limitStore, rateLimits, keysAdmin: undefined, close }
    const [{ openApiKeyStore }, { startKeysAdminServer }] = await Promise.all([import('../keys/open-key-store.js'), import('../keys/keys-admin-api.js')])
    const keyStore = await openApiKeyStore(opts.keyStore ?? process.env.MAITRED_KEY_STORE, dir)
    closers.push(() => keyStore.close())
    const tokenFile = join(dir, 'keys-admin-token')
    let token = process.env.MAITRED_ADMIN_TOKEN
    if (!token) {
      token = randomBytes(32).toString('base64url')
      await mkdir(dir, { recursive: true })
      await writeFile(tokenFile, `${token}\n`, { mode: 0o600 })
    }
    const tiers = stack.tiers.length > 0 ? stack.tiers.map((t) => t.metadata.name) : undefined
    const admin = await startKeysAdminServer({ store: keyStore, host, port: ephemeral ? 0 : Number(opts.keysAdminPort), token, ...(tiers ? { tiers } : {}) })
    closers.push(() => admin.close())
    return { keyStore, limitStore, rateLimits, keysAdmin: { url: admin.url, tokenFile: process.env.MAITRED_ADMIN_TOKEN ? '$MAITRED_ADMIN_TOKEN' : tokenFile }, close }
  } catch (err) {
    await close()
    throw err
  }
}

async function openLimitStore(url: string, prefix: string, log: (line: string) => void): Promise<LimitStore> {
  if (url === 'memory') return new (await import('../ratelimit/memory.js')).MemoryLimitStore()
  if (!/^rediss?:\/\//.test(url)) throw new Error(`--ratelimit-store: ${JSON.stringify(url)} is not memory or redis://HOST:PORT`)
  const { RedisLimitStore } = await import('../ratelimit/redis.js')
  const store = new RedisLimitStore({ url, prefix })
  // Not reachable yet is not fatal: the failure mode answers until it is.
  await store.ready().catch((err: Error) => log(`rate-limit store ${new URL(url).host}: ${err.message}; the failure mode applies until it answers`))
  return store
}
