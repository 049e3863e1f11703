import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { doctor, findings, fourBugsStack, serviceRoute } from './doctor-fixtures.js'
import { startStack, type StackProcess } from './stack-process.js'

describe("maitred doctor names the seeds' four bugs", () => {
  let stack: StackProcess
  let dir: string
  let keyed: Server
  let file: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'maitred-doctor-'))
    // A door that requires a key: an external server answering 401 with WWW-Authenticate unless it gets `Bearer k1`.
    keyed = createServer((req, res) => {
      req.resume()
      if (req.headers.authorization !== 'Bearer k1') {
        res.writeHead(401, { 'www-authenticate': 'Bearer realm="maas"', 'content-type': 'application/json' })
        return res.end(JSON.stringify({ error: { message: 'missing API key', type: 'authentication_error', code: 'unauthorized' } }))
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } }))
    })
    await new Promise<void>((r) => keyed.listen(0, '127.0.0.1', r))
    const keyedDoor = serviceRoute('auth', 'keyed', `{external: {url: "http://127.0.0.1:${(keyed.address() as AddressInfo).port}"}}`)
    file = join(dir, 'stack.yaml')
    await writeFile(file, (await fourBugsStack(dir)) + '---\n' + keyedDoor)
    stack = await startStack(['-f', file])
  }, 90_000)
  afterAll(async () => {
    await stack?.stop()
    keyed?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('against the running stack: each bug fails its check with the fix, and doctor exits 1', async () => {
    const { code, report } = await doctor(['--state-dir', stack.stateDir])
    expect(code).toBe(1)
    // Bug 1: the probe's body does not reach the model server, and the same request sent straight to it shows which hop.
    const [body] = findings(report, 'body-reaches-server', 'bug1/')
    expect(body).toMatchObject({ outcome: 'fail', message: expect.stringMatching(/refused 400 .*the model server bug1\/sim-0 itself loses it/), next: expect.stringMatching(/dropRequestBody/) })
    // Bug 2: chat completions go round-robin to the Service; the picker never sees them.
    const [picker] = findings(report, 'picker-consulted', 'bug2/')
    expect(picker).toMatchObject({ outcome: 'fail', message: expect.stringMatching(/go to Service\/workload: round-robin/), next: expect.stringMatching(/InferencePool/) })
    const [failOpen] = findings(report, 'picker-consulted', 'bug2-failopen/')
    expect(failOpen).toMatchObject({ outcome: 'fail', message: expect.stringMatching(/answered 200 but carried no routing decision: .*FailOpen sent the request to a random endpoint/) })
    expect(findings(report, 'picker-consulted', 'bug4/')[0]).toMatchObject({ outcome: 'pass', message: expect.stringMatching(/carried the picker's decision/) })
    // Bug 3: the server's certificate is signed by another CA than the one its ModelServer trusts.
    const [tls] = findings(report, 'upstream-tls', 'bug3/')
    expect(tls).toMatchObject({ outcome: 'fail', message: expect.stringMatching(/does not verify: .*(certificate|CERT)/i), next: expect.stringMatching(/caFile/) })
    // Bug 4: prefill/decode pods behind a single-profile picker config.
    const [pd] = findings(report, 'pd-config', 'bug4/')
    expect(pd).toMatchObject({ outcome: 'fail', message: expect.stringMatching(/prefill\/decode roles .* no P\/D profile handler/), next: expect.stringMatching(/pd-profile-handler/) })
    // The keyed door: rejected without a key (✓), and not probed further without one.
    const door = findings(report, 'door-chat', 'auth/')
    expect(door.map((f) => f.outcome)).toEqual(['pass', 'skip'])
    expect(door[0]!.message).toMatch(/requires a key: rejected the probe without one \(401, WWW-Authenticate: Bearer realm="maas"\)/)
  }, 30_000)

  it('probes a keyed door with --api-key', async () => {
    const { report } = await doctor(['--state-dir', stack.stateDir, '--api-key', 'k1'])
    expect(findings(report, 'door-chat', 'auth/').map((f) => [f.outcome, f.message.slice(0, 30)])).toEqual([
      ['pass', 'requires a key: rejected the p'],
      ['pass', 'with the key: POST /auth/v1/ch'],
    ])
  }, 30_000)

  it('with -f, finds all four in the config before it runs', async () => {
    const { code, report } = await doctor(['-f', file])
    expect(code).toBe(1)
    expect(findings(report, 'body-reaches-server', 'bug1/')[0]).toMatchObject({ outcome: 'fail', message: expect.stringMatching(/dropRequestBody is true/) })
    expect(findings(report, 'picker-consulted', 'bug2/')[0]).toMatchObject({ outcome: 'fail', message: expect.stringMatching(/goes to Service\/workload/) })
    expect(findings(report, 'picker-consulted', 'bug2-failopen/')[0]).toMatchObject({ outcome: 'warn', message: expect.stringMatching(/FailOpen/) })
    expect(findings(report, 'upstream-tls', 'bug3/')[0]).toMatchObject({ outcome: 'fail', message: expect.stringMatching(/not signed by the CA in spec.tls.caFile/) })
    expect(findings(report, 'pd-config', 'bug4/')[0]).toMatchObject({ outcome: 'fail' })
  }, 30_000)
})
