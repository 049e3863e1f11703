import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** An anchor (or other helper server) in its own process: the ports it printed, and a way to stop it. */
export interface AnchorProcess {
  child: ChildProcess
  ports: { http: number; https?: number }
  stop(): Promise<void>
}

/** Runs `bench/anchors/<script>` under tsx and waits for the one JSON line of ports it prints when listening. */
export async function startAnchor(script: string, args: readonly string[]): Promise<AnchorProcess> {
  const file = fileURLToPath(new URL(script, import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const ports = await new Promise<AnchorProcess['ports']>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before listening`)))
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line) as AnchorProcess['ports']))
  })
  return { child, ports, stop: () => stopChild(child) }
}

/** SIGTERM, and resolves once the process has exited. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  return exited
}
