import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stopChild } from '../anchors/child-process.js'

const CONFIG = fileURLToPath(new URL('nginx.conf', import.meta.url))

export interface NginxProcess {
  child: ChildProcess
  /** The master and its worker: together they are nginx's cost. */
  pids: number[]
  ports: { http: number; https: number }
  stop(): Promise<void>
}

/** The nginx binary on PATH (or /usr/sbin), or undefined when it is not installed. */
export function findNginx(): string | undefined {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' })
      return candidate
    } catch {}
  }
  return undefined
}

/** A port the OS just handed out and released (nginx cannot listen on port 0 and report it). */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`)
    const open = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)))
      s.once('error', () => resolve(false))
    })
    if (open) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`nginx did not listen on ${port}`)
}

/** nginx in the foreground with a temp prefix, proxying to `upstream` (host:port) on two OS-free ports (HTTP, HTTPS). */
export async function startNginx(binary: string, upstream: string, cert: { certFile: string; keyFile: string }): Promise<NginxProcess> {
  const prefix = await mkdtemp(join(tmpdir(), 'maitred-bench-nginx-'))
  await mkdir(join(prefix, 'logs'))
  const ports = { http: await freePort(), https: await freePort() }
  const config = (await readFile(CONFIG, 'utf8'))
    .replaceAll('@UPSTREAM@', upstream)
    .replaceAll('@HTTP_PORT@', String(ports.http))
    .replaceAll('@HTTPS_PORT@', String(ports.https))
    .replaceAll('@CERT@', cert.certFile)
    .replaceAll('@KEY@', cert.keyFile)
  await writeFile(join(prefix, 'nginx.conf'), config)
  const child = spawn(binary, ['-p', prefix, '-c', 'nginx.conf', '-e', 'stderr'], { stdio: ['ignore', 'ignore', 'inherit'] })
  await waitForPort(ports.http, child)
  await waitForPort(ports.https, child)
  const workers = (await readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8')).trim().split(/\s+/).filter(Boolean).map(Number)
  return {
    child,
    pids: [child.pid!, ...workers],
    ports,
    stop: async () => {
      await stopChild(child)
      await rm(prefix, { recursive: true, force: true })
    },
  }
}
