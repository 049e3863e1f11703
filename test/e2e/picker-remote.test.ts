import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../src/sim/start-simulator.js'
import { BIN, runCli, startStack, type StackProcess } from './stack-process.js'
import { openGatewayYaml } from './open-gateway.js'

const MODEL = 'Qwen/Qwen3-0.6B'

/**
 * Two pools served by one remote picker (`maitred picker -f … --pool …`, TLS with its self-signed certificate), one
 * FailOpen and one FailClose. The picker's config keeps only the endpoint labelled `tier: chosen`, which the gateway's
 * own default would not do: every request landing there shows the remote picker decided.
 */
const stackYaml = (sims: RunningSimulator[], pickerAddress: string) => `
${openGatewayYaml('gw', 'infra')}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: chat, namespace: team}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  rules:
${['open', 'closed']
  .map(
    (mode) => `  - matches: [{path: {type: PathPrefix, value: /${mode}}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}]
    backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: pool-${mode}}]`,
  )
  .join('\n')}
${[
  ['open', 'FailOpen'],
  ['closed', 'FailClose'],
]
  .map(
    ([mode, failureMode]) => `---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata:
  name: pool-${mode}
  namespace: team
  annotations:
    maitred.dev/endpoint-picker-address: "${pickerAddress}"
    maitred.dev/endpoint-picker-insecure-skip-verify: "true"
spec:
  selector: {matchLabels: {app: sim}}
  targetPorts: [{number: 8000}]
  endpointPickerRef: {name: remote-epp, port: {number: 9002}, failureMode: ${failureMode}}`,
  )
  .join('\n')}
---
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
metadata: {name: remote-epp, namespace: team}
plugins:
- {type: label-selector-filter, name: chosen-only, parameters: {matchLabels: {tier: chosen}}}
- {type: queue-scorer}
schedulingProfiles:
- name: default
  plugins: [{pluginRef: chosen-only}, {pluginRef: queue-scorer}]
${sims
  .map(
    (sim, i) => `---
apiVersion: maitred.dev/v1alpha1
kind: ModelServer
metadata: {name: sim-${i}, namespace: team, labels: {app: sim, tier: ${i === 1 ? 'chosen' : 'spare'}}}
spec: {external: {url: "${sim.url}"}}`,
  )
  .join('\n')}
`

/** `maitred picker` as its own process; resolves with its ext_proc address once it listens. */
async function startPickerProcess(args: string[]): Promise<{ child: ChildProcess; address: string; output(): string }> {
  const child = spawn(process.execPath, [BIN, 'picker', '--grpc-port', '0', '--grpc-health-port', '0', '--metrics-port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const deadline = Date.now() + 30_000
  for (;;) {
    const match = /ext_proc on (127\.0\.0\.1:\d+)/.exec(out)
    if (match) return { child, address: match[1]!, output: () => out }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`maitred picker did not start:\n${out}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const chat = (gw: string, prefix: string) =>
  fetch(`${gw}/${prefix}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-maitred-explain': '1' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 2 }),
  })

describe('a pool served by a remote picker (maitred picker -f STACK --pool), over ext_proc', () => {
  let sims: RunningSimulator[] = []
  let picker: Awaited<ReturnType<typeof startPickerProcess>> | undefined
  let stack: StackProcess | undefined
  let dir: string
  let gw: string

  beforeAll(async () => {
    sims = await Promise.all([0, 1].map(() => startSimulator({ port: 0, timeScale: 20 })))
    dir = await mkdtemp(join(tmpdir(), 'maitred-remote-picker-'))
    // The picker reads the pool from the stack file (the address annotation is the gateway's business, not its own).
    await writeFile(join(dir, 'picker-stack.yaml'), stackYaml(sims, '127.0.0.1:1'))
    picker = await startPickerProcess(['-f', join(dir, 'picker-stack.yaml'), '--pool', 'team/pool-open'])
    await writeFile(join(dir, 'stack.yaml'), stackYaml(sims, picker.address))
    stack = await startStack(['-f', join(dir, 'stack.yaml')])
    gw = stack.gatewayUrl()
  }, 90_000)

  afterAll(async () => {
    if (picker?.child.exitCode === null) picker.child.kill('SIGTERM')
    await stack?.stop()
    await Promise.all(sims.map((s) => s.close()))
    await rm(dir, { recursive: true, force: true })
  })

  it('the picker process names its pool and the stack\'s external endpoints', () => {
    expect(picker!.output()).toContain(`pool team/pool-open, endpoints: ${sims.map((s) => `127.0.0.1:${s.port}`).join(', ')}`)
  })

  it('routes every request to the endpoint the remote picker chooses, with its explain rows', async () => {
    for (const prefix of ['open', 'closed', 'open', 'closed']) {
      const res = await chat(gw, prefix)
      expect(res.status).toBe(200)
      expect(res.headers.get('x-gateway-destination-endpoint-served')).toBe(`127.0.0.1:${sims[1]!.port}`)
      // The remote picker's explain rows travel back in its metadata: the spare endpoint was dropped by the filter.
      expect(res.headers.get('x-maitred-explain')).toMatch(/team\/sim-0 dropped-by=chosen-only/)
      expect((await res.json()).choices[0].message.content.length).toBeGreaterThan(0)
    }
  })

  it('maitred get says the pools are picked for remotely and shows the gateway\'s own scrape of their endpoints', async () => {
    const address = picker!.address
    expect(await stack!.get('pools')).toMatch(new RegExp(`pool-open +remote ${address} `))
    type Endpoint = { id: string; remotePickers?: string[]; healthy: boolean; metrics?: { waitingQueueSize: number } }
    await expect.poll(async () => (JSON.parse(await stack!.get('endpoints', true)) as Endpoint[]).every((e) => e.metrics !== undefined), { timeout: 10_000 }).toBe(true)
    const endpoints = JSON.parse(await stack!.get('endpoints', true)) as Endpoint[]
    expect(endpoints.map((e) => [e.id, e.remotePickers, e.healthy])).toEqual([
      ['team/sim-0', [address], true],
      ['team/sim-1', [address], true],
    ])
    const text = await stack!.get('endpoints')
    expect(text).toMatch(/team\/sim-0 +127\.0\.0\.1:\d+ +external +True +0 +0 +0\.0 /)
    expect(text).toContain(`team/sim-0, team/sim-1: picked for by the remote picker at ${address} (ext_proc), from its own scrape; the figures above are the gateway's own scrape`)
  })

  it('maitred explain -f STACK --pool builds the same picker from the file and prints its decision', async () => {
    const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Hello there' }] })
    const r = await runCli(['explain', '-f', join(dir, 'picker-stack.yaml'), '--pool', 'team/pool-open', '-d', body])
    expect(r.stderr).toBe('')
    const lines = r.stdout.split('\n')
    expect(lines[1]).toBe(`profiles run: default  picked: 127.0.0.1:${sims[1]!.port}`)
    expect(lines.slice(3)).toEqual([
      expect.stringMatching(/^PROFILE +ENDPOINT +QUEUE-SCORER +TOTAL +PICKED$/),
      expect.stringMatching(/^default +team\/sim-0 +dropped by chosen-only$/),
      expect.stringMatching(/^default +team\/sim-1 +1×1=1 +1 +\*$/),
      '',
    ])
  })

  it('with the remote picker down, FailOpen still serves and FailClose answers 503', async () => {
    const exited = new Promise((resolve) => picker!.child.once('exit', resolve))
    picker!.child.kill('SIGTERM')
    await exited
    for (let i = 0; i < 6; i++) {
      const open = await chat(gw, 'open')
      expect(open.status).toBe(200)
      // Fail-open picks at random over the whole pool, without the picker: no explain rows.
      expect(open.headers.get('x-maitred-explain')).toBeNull()
      await open.arrayBuffer()
    }
    const closed = await chat(gw, 'closed')
    expect(closed.status).toBe(503)
    const body = (await closed.json()) as { error: { message: string; type: string; code: string } }
    expect(body.error.code).toBe('picker_unavailable')
    expect(body.error.message).toMatch(/failureMode FailClose/)
    // Envoy's flag for a request the picker did not decide.
    await expect.poll(async () => (await stack!.accessLog()).filter((r) => r.response_flags === 'FO').length, { timeout: 5_000 }).toBe(6)
  })
})
