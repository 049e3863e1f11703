import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli, startStack, type StackProcess } from './stack-process.js'

const MODEL = 'Qwen/Qwen3-0.6B'
const PREFIX = '/my-first-model/qwen3-0-6b'
const stacks: StackProcess[] = []
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((s) => s.stop()))
})

async function start(args: string[] = []): Promise<StackProcess> {
  const s = await startStack(args)
  stacks.push(s)
  return s
}

const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], max_tokens: 8, ...extra }),
})

describe('lifecycle of a running stack', () => {
  it('serves the seed\'s HTTPS commands verbatim (curl -sk) with a certificate from the local CA', async () => {
    const s = await start(['--time-scale', '20'])
    const https = s.state.gateways[0]!.urls.find((u) => u.startsWith('https://'))!
    const out = execFileSync('curl', ['-sk', `${https}${PREFIX}/v1/models`], { encoding: 'utf8' })
    expect(JSON.parse(out).data[0].id).toBe(MODEL)
    const verified = execFileSync('curl', ['-s', '--cacert', join(s.stateDir, 'pki', 'ca.crt'), `${https}${PREFIX}/v1/models`], { encoding: 'utf8' })
    expect(JSON.parse(verified).data[0].id).toBe(MODEL)
    expect(execFileSync('curl', ['-sk', '--http2', '-o', '/dev/null', '-w', '%{http_version}', `${https}${PREFIX}/v1/models`], { encoding: 'utf8' })).toBe('2')
  })

  it('SIGTERM drains in-flight streams to their end, then exits 0', async () => {
    const s = await startStack(['--time-scale', '5'])
    const gw = s.gatewayUrl()
    const streams = Array.from({ length: 6 }, async (_, i) => {
      const res = await fetch(`${gw}${PREFIX}/v1/chat/completions`, chat(`story ${i}`, { max_tokens: 100, ignore_eos: true, stream: true }))
      return res.text()
    })
    await new Promise((r) => setTimeout(r, 150))
    s.child.kill('SIGTERM')
    const bodies = await Promise.all(streams)
    for (const body of bodies) {
      expect(body.endsWith('data: [DONE]\n\n')).toBe(true)
      expect(body).not.toContain('"error"')
    }
    expect(await s.stop()).toBe(0)
    await expect(fetch(`${gw}${PREFIX}/v1/models`)).rejects.toThrow()
  })

  it('replicas never outlive maitred up, even when it is killed with SIGKILL', async () => {
    const s = await startStack(['--time-scale', '20'])
    const pids = (JSON.parse(await s.get('endpoints', true)) as { pid: number }[]).map((e) => e.pid)
    expect(pids).toHaveLength(2)
    s.child.kill('SIGKILL')
    const alive = () => pids.filter((pid) => {
      try {
        process.kill(pid, 0)
        return true
      } catch {
        return false
      }
    })
    const deadline = Date.now() + 10_000
    while (alive().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    expect(alive()).toEqual([])
    await s.stop()
  })

  it('a replica killed under load fails no non-streamed request', async () => {
    const s = await start(['--time-scale', '5'])
    const gw = s.gatewayUrl()
    const endpoints = JSON.parse(await s.get('endpoints', true)) as { pid: number }[]
    let killed = false
    const results = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 10))
        if (i === 20 && !killed) {
          killed = true
          process.kill(endpoints[0]!.pid, 'SIGKILL')
        }
        const res = await fetch(`${gw}${PREFIX}/v1/chat/completions`, chat(`${i} question`, { max_tokens: 20, ignore_eos: true }))
        return res.status
      }),
    )
    expect(killed).toBe(true)
    expect(results.filter((code) => code !== 200)).toEqual([])
  })

  it('maitred apply refuses invalid config with every error and the old config keeps serving; valid config takes effect', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'maitred-apply-'))
    const seed = await readFile('examples/seed-cluster.yaml', 'utf8')
    const stackFile = join(dir, 'stack.yaml')
    await writeFile(stackFile, seed)
    const s = await start(['-f', stackFile, '--time-scale', '20'])
    const gw = s.gatewayUrl()

    const bad = join(dir, 'bad.yaml')
    await writeFile(bad, seed.replace('replicas: 2', 'replicas: two').replace('port: 8080', 'port: 8080\n    colour: blue'))
    const refused = await runCli(['apply', '-f', bad, '--state-dir', s.stateDir])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`${bad}:`)
    expect(refused.stderr).toContain('spec.replicas')
    expect(refused.stderr).toContain('spec.listeners[0].colour: unknown field')
    expect((await fetch(`${gw}${PREFIX}/v1/chat/completions`, chat('still there?'))).status).toBe(200)

    const three = join(dir, 'three.yaml')
    await writeFile(three, seed.replace('replicas: 2', 'replicas: 3'))
    const applied = await runCli(['apply', '-f', three, '--state-dir', s.stateDir])
    expect(applied.stderr).toBe('')
    expect(applied.code).toBe(0)
    const endpoints = JSON.parse(await s.get('endpoints', true)) as unknown[]
    expect(endpoints).toHaveLength(3)
    expect((await fetch(`${gw}${PREFIX}/v1/chat/completions`, chat('and now?'))).status).toBe(200)
  })

  it('up --watch reloads changed files, and refuses an invalid change while the running config keeps serving', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'maitred-watch-'))
    const seed = await readFile('examples/seed-cluster.yaml', 'utf8')
    const stackFile = join(dir, 'stack.yaml')
    await writeFile(stackFile, seed)
    const s = await start(['-f', stackFile, '--watch', '--time-scale', '20'])
    await writeFile(stackFile, seed.replace('replicas: 2', 'replicas: -1'))
    const deadline = Date.now() + 15_000
    while (!s.stderr().includes('configuration refused') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    expect(s.stderr()).toContain('spec.replicas')
    expect((await fetch(`${s.gatewayUrl()}${PREFIX}/v1/chat/completions`, chat('still serving?'))).status).toBe(200)
    await writeFile(stackFile, seed.replace('replicas: 2', 'replicas: 3'))
    while (!s.stderr().includes('configuration reloaded') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    expect((JSON.parse(await s.get('endpoints', true)) as unknown[]).length).toBe(3)
  })

  it('two doors, same room: both gateways reach one picker, whose prefix index they share', async () => {
    const s = await start(['-f', 'examples/two-doors.yaml', '--time-scale', '20'])
    const doorA = s.gatewayUrl('openshift-ai-inference')
    const doorB = s.gatewayUrl('maas-gateway')
    const shared = 'You are the assistant of a restaurant with a long menu. '.repeat(40)
    const ask = (door: string, q: string) =>
      fetch(`${door}${PREFIX}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-maitred-explain': '1' },
        body: JSON.stringify({ model: MODEL, messages: [{ role: 'system', content: shared }, { role: 'user', content: q }], max_tokens: 4 }),
      })
    const first = await ask(doorA, 'first')
    const second = await ask(doorB, 'second')
    expect(first.status).toBe(200)
    expect(second.status).toBe(200)
    const servedA = first.headers.get('x-gateway-destination-endpoint-served')
    expect(second.headers.get('x-gateway-destination-endpoint-served')).toBe(servedA)
    const routes = await s.get('routes')
    expect(routes).toMatch(/Gateway: maas-gateway +Path: \/my-first-model\/qwen3-0-6b\/v1\/chat\/completions +-> InferencePool\/qwen3-0-6b-inference-pool/)
  })

  it('rotates a listener certificate from files without a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'maitred-certs-'))
    const cert = (cn: string) => {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', `/CN=${cn}`,
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'new.key'), '-out', join(dir, 'new.crt')], { stdio: 'ignore' })
      execFileSync('mv', [join(dir, 'new.key'), join(dir, 'tls.key')])
      execFileSync('mv', [join(dir, 'new.crt'), join(dir, 'tls.crt')])
    }
    cert('first')
    const stackFile = join(dir, 'stack.yaml')
    await writeFile(
      stackFile,
      (await readFile('examples/seed-cluster.yaml', 'utf8')).replace(
        '      certificateRefs:\n      - name: default-gateway-tls',
        `      options:\n        maitred.dev/cert-file: ${join(dir, 'tls.crt')}\n        maitred.dev/key-file: ${join(dir, 'tls.key')}`,
      ),
    )
    const s = await start(['-f', stackFile, '--time-scale', '20'])
    const https = s.state.gateways[0]!.urls.find((u) => u.startsWith('https://'))!
    // The certificate the listener presents now, read with a fresh TLS handshake.
    const subject = async () =>
      execFileSync('sh', ['-c', `echo | openssl s_client -connect ${new URL(https).host} -servername localhost 2>/dev/null | openssl x509 -noout -subject`], { encoding: 'utf8' }).trim()
    expect(await subject()).toContain('CN = first')
    cert('second')
    const deadline = Date.now() + 5_000
    while (!(await subject()).includes('CN = second') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    expect(await subject()).toContain('CN = second')
    while (!s.stderr().includes('certificates reloaded') && Date.now() < deadline + 2_000) await new Promise((r) => setTimeout(r, 50))
    expect(s.stderr()).toContain('certificates reloaded')
  })
})
