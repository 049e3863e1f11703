import { Option, type Command } from 'commander'
import type { ApiKeyRecord } from '../keys/api-key-store.js'
import type { CachedKeyStore } from '../keys/cached-key-store.js'
import { parseExpiry } from '../keys/expiry.js'
import { idFragment } from '../keys/key-format.js'
import { keyJson, keyStatus, usageJson } from '../keys/key-view.js'
import { openApiKeyStore } from '../keys/open-key-store.js'
import { checkTierName, DEFAULT_TIER_NAMES } from '../keys/tier-names.js'
import { stateDir } from './state-file.js'
import { formatTable } from './table.js'

interface StoreOptions {
  store?: string
  stateDir?: string
  output: string
}

export function registerKeysCommand(program: Command): void {
  const keys = program
    .command('keys')
    .description('API keys for the MaaS gateway: create (shown once), list, revoke, usage; stored hashed in keys.db in the state dir or in PostgreSQL')
  storeOptions(keys.command('create'), ['table', 'json', 'key'])
    .description('create a key and print it, the only time it is ever shown')
    .requiredOption('--tier <TIER>', `its tier (${DEFAULT_TIER_NAMES.join(', ')})`)
    .option('--name <NAME>', 'what it is for', '')
    .option('--expires <WHEN>', 'a lifetime (90d, 720h, 30m) or an ISO date; default: never')
    .option('--models <LIST>', 'comma-separated models it may call (default: whatever its tier allows)')
    .addHelpText('after', '\n-o key prints the key alone, for scripts: KEY=$(maitred keys create --tier free -o key)')
    .action((opts: StoreOptions & { tier: string; name: string; expires?: string; models?: string }) => {
      checkTierName(opts.tier)
      const expiresAt = opts.expires === undefined ? undefined : parseExpiry(opts.expires)
      const models = opts.models?.split(',').map((m) => m.trim()).filter(Boolean) ?? []
      return withStore(opts, async (store) => {
        const { key, record } = await store.create({ tier: opts.tier, name: opts.name, models, ...(expiresAt ? { expiresAt } : {}) })
        if (opts.output === 'key') return key
        if (opts.output === 'json') return JSON.stringify({ key, ...keyJson(record) }, null, 2)
        process.stderr.write('This is the only time the key is shown: store it now.\n')
        return [
          `key:      ${key}`,
          `id:       ${record.id}`,
          `prefix:   ${record.prefix}`,
          `name:     ${record.name || '-'}`,
          `tier:     ${record.tier}`,
          `models:   ${record.models.join(',') || "(the tier's)"}`,
          `expires:  ${date(record.expiresAt, 'never')}`,
        ].join('\n')
      })
    })
  storeOptions(keys.command('list'))
    .description('list keys (prefix, never the key) with their status and usage')
    .action((opts: StoreOptions) =>
      withStore(opts, async (store) => {
        const records = await store.list()
        if (opts.output === 'json') return JSON.stringify(records.map((r) => keyJson(r)), null, 2)
        return formatTable(
          ['PREFIX', 'NAME', 'TIER', 'MODELS', 'CREATED', 'LAST USED', 'EXPIRES', 'STATUS', 'REQUESTS', 'PROMPT TOKENS', 'COMPLETION TOKENS'],
          records.map((r) => [
            r.prefix,
            r.name || '-',
            r.tier,
            r.models.join(',') || '*',
            date(r.createdAt),
            date(r.lastUsedAt),
            date(r.expiresAt, 'never'),
            keyStatus(r),
            String(r.usage.requests),
            String(r.usage.promptTokens),
            String(r.usage.completionTokens),
          ]),
        )
      }),
    )
  storeOptions(keys.command('revoke'))
    .description('revoke a key: every gateway sharing the store refuses it within a second')
    .argument('<ID_OR_PREFIX>', 'its id, display prefix (sk-oai-XXXXXXXXXXXX...) or the first characters of its id')
    .action((ref: string, opts: StoreOptions) =>
      withStore(opts, async (store) => {
        const r = await found(store, ref)
        await store.revoke(r.id)
        return opts.output === 'json' ? JSON.stringify(keyJson((await store.get(r.id)) ?? r), null, 2) : `revoked ${r.prefix}${r.name ? ` (${r.name})` : ''}`
      }),
    )
  storeOptions(keys.command('usage'))
    .description("a key's requests and tokens so far, and when it was last used")
    .argument('<ID_OR_PREFIX>', 'its id, display prefix or the first characters of its id')
    .action((ref: string, opts: StoreOptions) =>
      withStore(opts, async (store) => {
        const u = usageJson(await found(store, ref))
        if (opts.output === 'json') return JSON.stringify(u, null, 2)
        return formatTable(
          ['PREFIX', 'TIER', 'REQUESTS', 'PROMPT TOKENS', 'COMPLETION TOKENS', 'TOTAL TOKENS', 'LAST USED'],
          [[u.keyPrefix, u.tier, String(u.requests), String(u.promptTokens), String(u.completionTokens), String(u.totalTokens), u.lastUsedAt ?? '-']],
        )
      }),
    )
}

function storeOptions(cmd: Command, formats = ['table', 'json']): Command {
  return cmd
    .option('--store <URL>', 'the key store: sqlite:PATH or postgres://USER@HOST:PORT/DB (default: $MAITRED_KEY_STORE, else keys.db in the state dir)')
    .option('--state-dir <DIR>', 'state dir (default: $MAITRED_STATE_DIR, else ~/.maitred)')
    .addOption(new Option('-o, --output <FORMAT>', 'output format').choices(formats).default('table'))
}

async function withStore(opts: StoreOptions, run: (store: CachedKeyStore) => Promise<string>): Promise<void> {
  const store = await openApiKeyStore(opts.store ?? process.env.MAITRED_KEY_STORE, stateDir(opts.stateDir))
  try {
    process.stdout.write(`${await run(store)}\n`)
  } finally {
    await store.close()
  }
}

/** The key a reference names; the error repeats only the id part of what was given, never anything that may be a secret. */
async function found(store: CachedKeyStore, ref: string): Promise<ApiKeyRecord> {
  const r = await store.get(ref)
  if (r) return r
  const fragment = idFragment(ref)
  if (!fragment) throw new Error('not a key id or prefix (see `maitred keys list`)')
  throw new Error(fragment.length < 4 ? `give at least 4 characters of the key's id, not ${fragment}` : `no key with an id starting ${fragment}`)
}

const date = (d: Date | undefined, none = '-') => d?.toISOString().replace(/\.\d{3}Z$/, 'Z') ?? none
