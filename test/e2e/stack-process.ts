import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RunState } from '../../src/cli/state-file.js'
import { ACCESS_LOG_FLUSH_INTERVAL_MS } from '../../src/gateway/access-log.js'

export const BIN = fileURLToPath(new URL('../../bin/maitred.js', import.meta.url))

/** A real `maitred up` process on OS-chosen ports, with its state dir and access log in a temp dir. */
export interface StackProcess {
  child: ChildProcess
  state: RunState
  /** The state dir of this stack (run.json, pki/). */
  stateDir: string
  /** URL of the first listener of the named gateway (default: the first gateway). */
  gatewayUrl(name?: string): string
  stdout(): string
  stderr(): string
  accessLog(): Promise<Record<string, unknown>[]>
  get(kind: string, json?: boolean): Promise<string>
  stop(): Promise<number | null>
}

export async function startStack(args: string[] = [], readyTimeoutMs = 60_000): Promise<StackProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'maitred-e2e-'))
  const logFile = join(dir, 'access.log')
  const child = spawn(
    process.execPath,
    [BIN, 'up', '--ephemeral-ports', '--bind', '127.0.0.1', '--admin-port', '0', '--ui-port', '0', '--state-dir', dir, '--access-log', logFile, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const deadline = Date.now() + readyTimeoutMs
  let state: RunState | undefined
  while (!state) {
    if (child.exitCode !== null) throw new Error(`maitred up exited with ${child.exitCode}\n${out}\n${err}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`maitred up not ready within ${readyTimeoutMs} ms\n${out}\n${err}`)
    }
    state = await readFile(join(dir, 'run.json'), 'utf8').then((t) => JSON.parse(t) as RunState, () => undefined)
    if (!state) await new Promise((r) => setTimeout(r, 100))
  }
  const ready = state
  return {
    child,
    state: ready,
    stateDir: dir,
    gatewayUrl: (name) => (name ? ready.gateways.find((g) => g.name === name) : ready.gateways[0])!.urls[0]!,
    stdout: () => out,
    stderr: () => err,
    accessLog: async () => {
      // The gateway buffers its access log for up to a flush interval: read once the lines of requests just answered are out.
      await new Promise((r) => setTimeout(r, ACCESS_LOG_FLUSH_INTERVAL_MS + 50))
      return (await readFile(logFile, 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    },
    get: (kind, json = false) => runCli(['get', kind, '--state-dir', dir, ...(json ? ['-o', 'json'] : [])]).then((r) => r.stdout),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      const code = await exited
      await rm(dir, { recursive: true, force: true })
      return code
    },
  }
}

/** Runs the CLI to completion. */
export function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}
