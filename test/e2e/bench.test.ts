import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseReport } from '../../src/bench/report-schema.js'
import { runCli, startStack, type StackProcess } from './stack-process.js'

const PREFIX = '/my-first-model/qwen3-0-6b'

/** A two-replica stack; with `picker`, behind the endpoint picker's default config, else the Service's round robin. */
const twoReplicas = (picker: boolean) => `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: openshift-ai-inference, namespace: openshift-ingress}
spec:
  gatewayClassName: maitred
  listeners: [{name: http, protocol: HTTP, port: 8080, allowedRoutes: {namespaces: {from: All}}}]
---
apiVersion: serving.kserve.io/v1alpha1
kind: LLMInferenceService
metadata: {name: qwen3-0-6b, namespace: my-first-model}
spec:
  model: {uri: hf://Qwen/Qwen3-0.6B, name: Qwen/Qwen3-0.6B}
  replicas: 2
  router: {${picker ? 'scheduler: {}, ' : ''}route: {}, gateway: {}}
`

describe('maitred bench, end to end', () => {
  let stack: StackProcess
  let dir: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'maitred-bench-e2e-'))
    stack = await startStack(['--time-scale', '10'])
  }, 90_000)

  afterAll(async () => {
    await stack?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('load-tests a running stack through its gateway, reads its endpoints’ /metrics, writes JSON, CSV and HTML', { timeout: 90_000 }, async () => {
    const out = (ext: string) => join(dir, `report.${ext}`)
    const r = await runCli([
      'bench',
      '--target',
      `${stack.gatewayUrl()}${PREFIX}/v1`,
      '--profile',
      'constant',
      '--rate',
      '20',
      '--max-requests',
      '20',
      '--data',
      'prompt_tokens=64,output_tokens=8,prefix_tokens=64,prefix_count=2',
      '--stack-metrics',
      '--state-dir',
      stack.stateDir,
      '--no-progress',
      ...['json', 'csv', 'html'].flatMap((ext) => ['-o', out(ext)]),
    ])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/constant@20\/s +\d/)
    const report = parseReport(JSON.parse(await readFile(out('json'), 'utf8')))
    const b = report.benchmarks[0]!
    expect(b.requests).toMatchObject({ sent: 20, ok: 20, errors: 0 })
    expect(report.target.model).toBe('Qwen/Qwen3-0.6B')
    expect(b.ttftMs.count).toBe(20)
    // The servers counted what the client sent, spread over both replicas; the gateway named each request's endpoint.
    expect(b.server!.endpoints.map((e) => e.label).sort()).toEqual(['my-first-model/qwen3-0-6b-kserve-0', 'my-first-model/qwen3-0-6b-kserve-1'])
    expect(b.server!.endpoints.reduce((n, e) => n + e.requests, 0)).toBe(20)
    expect(b.server!.prefixCacheHitRate).toBeGreaterThan(0)
    expect(b.requestLog.every((l) => /^127\.0\.0\.1:\d+$/.test(l.endpoint ?? ''))).toBe(true)
    expect((await readFile(out('csv'), 'utf8')).split('\n')[1]).toMatch(/^constant@20\/s,constant,20,/)
    expect(await readFile(out('html'), 'utf8')).toContain('<svg')
  })

  it('--compare runs one seeded workload through each stack and prints them side by side with ratios', { timeout: 120_000 }, async () => {
    const a = join(dir, 'round-robin.yaml')
    const b = join(dir, 'picker.yaml')
    await writeFile(a, twoReplicas(false))
    await writeFile(b, twoReplicas(true))
    const r = await runCli(['bench', '--compare', a, b, '--profile', 'concurrent', '--concurrency', '2', '--max-requests', '12', '--data', 'prompt_tokens=16,output_tokens=4,prefix_tokens=128,prefix_count=3', '--no-progress'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^ +round-robin\.yaml +picker\.yaml +picker\.yaml \/ round-robin\.yaml/m)
    expect(r.stdout).toMatch(/^prefix-cache hit rate +\d+\.\d% +\d+\.\d% +(\d+\.\d\d×|∞)/m)
    // The Service's round robin alternates exactly; the picker's split is its own, over the same 12 requests.
    expect(r.stdout).toContain('round-robin.yaml: qwen3-0-6b-kserve 6/6')
    const split = /picker\.yaml: qwen3-0-6b-kserve (\d+)\/(\d+)/.exec(r.stdout)!
    expect(Number(split[1]) + Number(split[2])).toBe(12)
  })
})
