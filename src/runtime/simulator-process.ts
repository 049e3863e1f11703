import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { KvEventsAddress } from '../picker/endpoint.js'
import type { SimOptions } from '../sim/sim-options.js'

const BIN = fileURLToPath(new URL('../../bin/maitred.js', import.meta.url))

export interface SimulatorProcess {
  readonly url: string
  readonly port: number
  /** Where the replica publishes its KV events (when its options have `kvEvents`). */
  readonly kvEvents?: KvEventsAddress
  readonly pid: number
  readonly child: ChildProcess
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>
}

/**
 * Starts one simulated replica as its own OS process (like a pod: it can die alone), on a port the OS chooses.
 * Resolves when the child reports `ready` over IPC; `onExit` fires if it dies later.
 */
export function startSimulatorProcess(
  name: string,
  options: SimOptions,
  onExit: (code: number | null, signal: NodeJS.Signals | null) => void,
  readyTimeoutMs = 120_000,
): Promise<SimulatorProcess> {
  // Like its HTTP port, a replica's KV event sockets take ports the OS chooses (replicas would collide on 5557), on loopback.
  // Always with a replay socket: a picker that subscribes after the first batches catches up instead of missing them.
  const kvEvents = options.kvEvents && { ...options.kvEvents, endpoint: 'tcp://127.0.0.1:*', replayEndpoint: 'tcp://127.0.0.1:*' }
  const child = fork(BIN, ['sim', '--options-json', JSON.stringify({ ...options, host: '127.0.0.1', port: 0, ...(kvEvents ? { kvEvents } : {}) })], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    // A larger young generation halves the simulator's GC pauses under many concurrent streams (measured by bench:sim).
    execArgv: [...process.execArgv, '--max-semi-space-size=64'],
    env: { ...process.env, MAITRED_PROCESS_NAME: name },
  })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000)
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`ModelServer ${name}: simulator did not become ready within ${readyTimeoutMs} ms\n${stderr}`))
    }, readyTimeoutMs)
    const early = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer)
      reject(new Error(`ModelServer ${name}: simulator exited before ready (code ${code}, signal ${signal})\n${stderr}`))
    }
    child.once('exit', early)
    child.on('message', (msg: { type?: string; port?: number; url?: string; kvEvents?: KvEventsAddress }) => {
      if (msg?.type !== 'ready' || msg.port === undefined) return
      clearTimeout(timer)
      child.off('exit', early)
      child.once('exit', onExit)
      resolve({
        url: msg.url ?? `http://127.0.0.1:${msg.port}`,
        port: msg.port,
        ...(msg.kvEvents ? { kvEvents: msg.kvEvents } : {}),
        pid: child.pid!,
        child,
        stop: (graceMs = 5_000) => stopChild(child, graceMs),
      })
    })
  })
}

function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs)
    child.once('exit', () => {
      clearTimeout(kill)
      resolve()
    })
    child.kill('SIGTERM')
  })
}
