import { createHash } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEchoModelServer } from './echo-model-server.js'
import { runCli, startStack, type StackProcess } from './stack-process.js'
import { OPEN_GATEWAY_YAML } from './open-gateway.js'

/** A stack pointed at an external OpenAI-compatible server, declared with a few lines of YAML. */
const stackYaml = (url: string) => `
${OPEN_GATEWAY_YAML}---
apiVersion: serving.kserve.io/v1alpha2
kind: LLMInferenceService
metadata: {name: echo, namespace: team}
spec:
  model: {uri: "hf://none/echo", name: echo}
  router: {scheduler: {}, route: {}, gateway: {}}
---
apiVersion: maitred.dev/v1alpha1
kind: ModelServer
metadata:
  name: gpu-node-0
  namespace: team
  labels: {app.kubernetes.io/part-of: llminferenceservice, app.kubernetes.io/name: echo, kserve.io/component: workload}
spec:
  external: {url: "${url}"}
`

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

describe('external model servers and request bodies', () => {
  let echo: Awaited<ReturnType<typeof startEchoModelServer>>
  let stack: StackProcess
  let gw: string

  beforeAll(async () => {
    echo = await startEchoModelServer()
    const dir = await mkdtemp(join(tmpdir(), 'maitred-ext-'))
    const file = join(dir, 'stack.yaml')
    await writeFile(file, stackYaml(echo.url))
    stack = await startStack(['-f', file])
    gw = stack.gatewayUrl()
  }, 60_000)

  afterAll(async () => {
    await stack?.stop()
    echo?.server.close()
  })

  it.each([
    ['100 KB', 100 * 1024],
    ['2 MB', 2 * 1024 * 1024],
  ])('forwards a %s JSON body intact through the picker route', async (_, size) => {
    const body = JSON.stringify({ model: 'echo', prompt: 'x'.repeat(size), max_tokens: 1 })
    const res = await fetch(`${gw}/team/echo/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    expect(res.status).toBe(200)
    const got = (await res.json()) as { path: string; length: number; sha256: string; headers: Record<string, string> }
    expect(got).toMatchObject({ path: '/v1/completions', length: Buffer.byteLength(body), sha256: sha(body) })
    expect(got.headers['x-gateway-destination-endpoint']).toBe(new URL(echo.url).host)
  })

  it.each([
    ['1 byte', 1],
    ['100 KB', 100 * 1024],
    ['2 MB', 2 * 1024 * 1024],
  ])('streams a %s body intact through the Service route', async (_, size) => {
    const body = Buffer.alloc(size, 7)
    const res = await fetch(`${gw}/team/echo/upload?x=1`, { method: 'POST', body })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ path: '/upload?x=1', length: size, sha256: sha(body) })
  })

  it('get endpoints shows the external server with its scraped metrics', async () => {
    const [ep] = JSON.parse(await stack.get('endpoints', true)) as { id: string; kind: string; url: string; healthy: boolean }[]
    expect(ep).toMatchObject({ id: 'team/gpu-node-0', kind: 'external', url: echo.url, healthy: true })
  })
})

describe('maitred validate', () => {
  it('prints every error with file, resource and field, and exits non-zero', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'maitred-validate-'))
    const file = join(dir, 'bad.yaml')
    await writeFile(file, 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {selector: {}, ports: [{port: 0}], extra: 1}\n')
    const r = await runCli(['validate', '-f', file])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`${file}:4: Service/default/s: spec.ports[0].port: `)
    expect(r.stderr).toContain(`${file}:4: Service/default/s: spec.extra: unknown field`)
    expect(r.stderr).toContain('2 errors')
  })

  it.each(readdirSync('examples').filter((f) => f.endsWith('.yaml')))('accepts the shipped example %s', async (name) => {
    const r = await runCli(['validate', '-f', join('examples', name)])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^valid: \d+ resources declared, \d+ derived/m)
  })
})
