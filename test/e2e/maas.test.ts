import { randomUUID } from 'node:crypto'
import { writeFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEchoModelServer } from './echo-model-server.js'
import { ADMIN_TOKEN, createKey, maasTestStack, REDIS_URL, servicesUp, temporaryDatabase } from './maas-stack.js'
import { startStack, type StackProcess } from './stack-process.js'

const services = await servicesUp()
const ready = services.redis && services.postgres
if (!ready) console.warn(`maas.test: skipped — needs Redis (${services.redis ? 'up' : 'down'}) and PostgreSQL (${services.postgres ? 'up' : 'down'}); .ci/run starts both`)

const chat = (extra: Record<string, unknown> = {}) => JSON.stringify({ model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'Hi there' }], max_tokens: 8, ...extra })

/** Two gateway replicas sharing one PostgreSQL key store and one Redis (a prefix of their own). */
describe.runIf(ready)('the MaaS door, two replicas sharing PostgreSQL keys and Redis counters', () => {
  let a: StackProcess
  let b: StackProcess
  let echo: Awaited<ReturnType<typeof startEchoModelServer>>
  let db: Awaited<ReturnType<typeof temporaryDatabase>>
  const keys: string[] = []
  const maas = (s: StackProcess) => s.gatewayUrl('maas-gateway')
  const adminOf = (s: StackProcess) => s.state.keysAdmin!.url

  beforeAll(async () => {
    echo = await startEchoModelServer()
    db = await temporaryDatabase()
    const dir = await mkdtemp(join(tmpdir(), 'maitred-maas-'))
    const file = join(dir, 'stack.yaml')
    await writeFile(file, maasTestStack(echo.url))
    process.env.MAITRED_ADMIN_TOKEN = ADMIN_TOKEN
    const args = ['-f', file, '--time-scale', '50', '--key-store', db.url, '--ratelimit-store', REDIS_URL, '--ratelimit-prefix', `e2e:${randomUUID()}:`]
    // Replica b also puts the rate-limit state on admitted answers; a does not (the default, as Limitador's).
    ;[a, b] = await Promise.all([startStack(args), startStack([...args, '--ratelimit-headers', 'draft-03'])])
  }, 120_000)

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    await new Promise((r) => echo?.server.close(r))
    await db?.drop()
  })

  const post = (base: string, path: string, key: string | undefined, body = chat()) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body })

  it('answers 401 without a key or with a wrong one, OpenAI-shaped, with WWW-Authenticate', async () => {
    for (const key of [undefined, 'sk-oai-notakey_0000000000000000000000000000000000000000000']) {
      const res = await post(maas(a), '/llm/m/v1/chat/completions', key)
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="maitred"')
      const body = (await res.json()) as { error: { type: string; code: string; message: string } }
      expect(body.error).toMatchObject({ type: 'authentication_error', code: key ? 'invalid_api_key' : 'missing_api_key' })
    }
  })

  it('answers 403 when the tier (or the key) may not use the model', async () => {
    const tierBound = await createKey(adminOf(a), 'other-models')
    const keyBound = await createKey(adminOf(a), 'burst', ['some/other-model'])
    keys.push(tierBound.key, keyBound.key)
    for (const k of [tierBound, keyBound]) {
      const res = await post(maas(a), '/llm/m/v1/chat/completions', k.key)
      expect(res.status).toBe(403)
      expect(((await res.json()) as { error: { type: string; code: string } }).error).toMatchObject({ type: 'permission_error', code: 'model_not_allowed' })
    }
  })

  it('answers 429 past the tier\'s request limit, across replicas, with Retry-After and rate-limit headers (on admitted answers only with --ratelimit-headers draft-03)', async () => {
    const { key } = await createKey(adminOf(a), 'free')
    keys.push(key)
    const first = await post(maas(a), '/llm/m/v1/chat/completions', key)
    expect(first.status).toBe(200)
    expect([...first.headers.keys()].filter((h) => h.includes('ratelimit'))).toEqual([])
    const second = await post(maas(b), '/llm/m/v1/chat/completions', key)
    expect(second.status).toBe(200)
    expect(second.headers.get('x-ratelimit-remaining')).toBe('0')
    expect(second.headers.get('ratelimit')).toMatch(/^"free-2m";r=0;t=\d+$/)
    const third = await post(maas(a), '/llm/m/v1/chat/completions', key)
    expect(third.status).toBe(429)
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(100)
    expect(third.headers.get('x-ratelimit-limit')).toBe('2, 2;w=120')
    expect(third.headers.get('ratelimit-policy')).toBe('"free-2m";q=2;w=120')
    expect(third.headers.get('ratelimit')).toMatch(/^"free-2m";r=0;t=\d+$/)
    expect(((await third.json()) as { error: { type: string } }).error.type).toBe('rate_limit_exceeded')
  })

  it('counts the decisions so far on Prometheus counters, by gateway, limit and tier, never by key', async () => {
    // Replica a so far: two 401s, two 403s, then the free key's first request admitted and its third refused.
    const text = await (await fetch(`${a.state.admin}/metrics`)).text()
    const value = (name: string, labels: string) => Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
    expect(value('maitred_auth_decisions_total', 'gateway="maas-gateway",result="unauthenticated"')).toBe(2)
    expect(value('maitred_auth_decisions_total', 'gateway="maas-gateway",result="unauthorized"')).toBe(2)
    expect(value('maitred_auth_decisions_total', 'gateway="maas-gateway",result="allowed"')).toBe(2)
    expect(value('maitred_ratelimit_decisions_total', 'policy="RateLimitPolicy/gw/[^"]+",limit="free",result="admitted"')).toBe(1)
    expect(value('maitred_ratelimit_decisions_total', 'policy="RateLimitPolicy/gw/[^"]+",limit="free",result="limited"')).toBe(1)
    expect(value('maitred_tier_requests_total', 'tier="free"')).toBe(1)
    // The admitted request's usage, as the model server reported it.
    expect(value('maitred_tier_tokens_total', 'tier="free",kind="prompt"')).toBeGreaterThan(0)
    expect(value('maitred_tier_tokens_total', 'tier="free",kind="completion"')).toBeGreaterThan(0)
    for (const key of keys) expect(text).not.toContain(key.slice(-20))
  })

  it('admits exactly 100 of 200 concurrent clients against 100 a minute, over both replicas', async () => {
    const { key } = await createKey(adminOf(a), 'burst')
    keys.push(key)
    const statuses = await Promise.all(Array.from({ length: 200 }, (_, i) => post(i % 2 ? maas(a) : maas(b), '/echo', key, '{}').then(async (r) => (await r.arrayBuffer(), r.status))))
    expect(statuses.filter((s) => s === 200)).toHaveLength(100)
    expect(statuses.filter((s) => s === 429)).toHaveLength(100)
  })

  it('never lets concurrent streams use more tokens than the limit (sum of real usage)', async () => {
    const { key } = await createKey(adminOf(a), 'metered')
    keys.push(key)
    const body = JSON.stringify({ model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'Tell me a long story' }], stream: true, stream_options: { include_usage: true } })
    const used = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const res = await post(i % 2 ? maas(a) : maas(b), '/llm/m/v1/chat/completions', key, body)
        const text = await res.text()
        if (res.status !== 200) return 0
        const usage = text.split('\n').filter((l) => l.startsWith('data: {') && l.includes('"usage"')).map((l) => JSON.parse(l.slice(6)) as { usage?: { total_tokens: number } })
        return usage.at(-1)?.usage?.total_tokens ?? 0
      }),
    )
    const total = used.reduce((x, y) => x + y, 0)
    expect(total).toBeGreaterThan(0)
    expect(total).toBeLessThanOrEqual(400)
  })

  it('caps a request without max_tokens by its tier only below the model context (vLLM refuses more)', async () => {
    // 100 000 tokens a minute left, a 40 960-token model: injecting max_tokens ≈ 99 990 would get vLLM's 400.
    const { key } = await createKey(adminOf(a), 'roomy')
    keys.push(key)
    const body = JSON.stringify({ model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'Hi there' }] })
    const res = await post(maas(a), '/llm/m/v1/chat/completions', key, body)
    expect(res.status, await res.clone().text()).toBe(200)
    expect(((await res.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBeGreaterThan(0)
  })

  it('strips the usage event the gateway asked for when the client did not', async () => {
    const { key } = await createKey(adminOf(b), 'metered')
    keys.push(key)
    const res = await post(maas(b), '/llm/m/v1/chat/completions', key, chat({ stream: true }))
    const text = await res.text()
    expect(res.status).toBe(200)
    expect(text).toContain('data: [DONE]')
    expect(text).not.toContain('"usage"')
  })

  it('refuses a revoked key on the other replica within a second', async () => {
    const { key, id } = await createKey(adminOf(a), 'burst')
    keys.push(key)
    expect((await post(maas(b), '/echo', key, '{}')).status).toBe(200)
    const revoked = await fetch(`${adminOf(a)}/v1/api-keys/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    expect(revoked.status).toBe(200)
    const t0 = Date.now()
    let status = 200
    while (status !== 401 && Date.now() - t0 < 3000) {
      status = (await post(maas(b), '/echo', key, '{}')).status
      if (status !== 401) await new Promise((r) => setTimeout(r, 50))
    }
    expect(status).toBe(401)
    expect(Date.now() - t0).toBeLessThanOrEqual(1000)
  })

  it('never forwards the key upstream nor writes it to logs', async () => {
    const { key, keyPrefix } = await createKey(adminOf(a), 'burst')
    keys.push(key)
    const res = await post(maas(a), '/echo', key, '{}')
    const seen = (await res.json()) as { headers: Record<string, string> }
    expect(seen.headers.authorization).toBeUndefined()
    expect(JSON.stringify(seen)).not.toContain(key)
    const log = await a.accessLog()
    const line = log.find((l) => l.path === '/echo' && l.key_prefix === keyPrefix)
    expect(line).toMatchObject({ tier: 'burst', key_prefix: keyPrefix })
    const everything = [JSON.stringify(await a.accessLog()), JSON.stringify(await b.accessLog()), a.stdout(), a.stderr(), b.stdout(), b.stderr()].join('\n')
    for (const k of keys) expect(everything).not.toContain(k)
  })

  it('takes the key out before the route\'s header filters, so a route may send the upstream its own credential', async () => {
    const { key } = await createKey(adminOf(a), 'burst')
    keys.push(key)
    const res = await post(maas(a), '/echo/signed', key, '{}')
    const seen = (await res.json()) as { headers: Record<string, string> }
    expect(seen.headers.authorization).toBe('Bearer upstream-token')
    expect(JSON.stringify(seen)).not.toContain(key)
  })
})
