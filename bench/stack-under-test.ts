import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RunState } from '../src/cli/state-file.js'
import type { StackStatus } from '../src/runtime/stack-status.js'
import { stopChild } from './anchors/child-process.js'

const BIN = fileURLToPath(new URL('../bin/maitred.js', import.meta.url))

/** A `maitred up` child process for benchmarks: its own process, so the load generator does not share its CPU. */
export interface StackUnderTest {
  child: ChildProcess
  state: RunState
  status(): Promise<StackStatus>
  stop(): Promise<void>
}

export async function startStackUnderTest(stackYaml: string, extraArgs: string[] = []): Promise<StackUnderTest> {
  const dir = await mkdtemp(join(tmpdir(), 'maitred-bench-'))
  await writeFile(join(dir, 'stack.yaml'), stackYaml)
  // The bin itself, as `npx maitred up` runs it: its shebang's Node flags apply.
  const child = spawn(
    BIN,
    ['up', '-f', join(dir, 'stack.yaml'), '--ephemeral-ports', '--bind', '127.0.0.1', '--admin-port', '0', '--ui-port', 'off', '--state-dir', dir, '--access-log', join(dir, 'access.log'), ...extraArgs],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  )
  let state: RunState | undefined
  for (let i = 0; i < 600 && !state; i++) {
    if (child.exitCode !== null) throw new Error(`maitred up exited with ${child.exitCode}`)
    state = await readFile(join(dir, 'run.json'), 'utf8').then((t) => JSON.parse(t) as RunState, () => undefined)
    if (!state) await new Promise((r) => setTimeout(r, 100))
  }
  if (!state) throw new Error('maitred up did not become ready')
  const admin = state.admin
  return {
    child,
    state,
    status: async () => (await (await fetch(`${admin}/api/v1/status`)).json()) as StackStatus,
    stop: async () => {
      await stopChild(child)
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/**
 * The default stack's model half, for a benchmark's own Gateway: an LLMInferenceService (route, InferencePool, default
 * picker) attached to gateway `infra/<gateway>`, whose one replica is the zero-latency upstream.
 */
export const zeroLatencyModel = (upstream: string, gateway: string) => `---
apiVersion: serving.kserve.io/v1alpha2
kind: LLMInferenceService
metadata: {name: qwen, namespace: bench}
spec:
  model: {uri: hf://Qwen/Qwen3-0.6B, name: Qwen/Qwen3-0.6B}
  router: {scheduler: {}, route: {}, gateway: {refs: [{name: ${gateway}, namespace: infra}]}}
---
apiVersion: maitred.dev/v1alpha1
kind: ModelServer
metadata:
  name: zero-latency
  namespace: bench
  labels: {app.kubernetes.io/part-of: llminferenceservice, app.kubernetes.io/name: qwen, kserve.io/component: workload, llm-d.ai/role: both}
spec:
  external: {url: "${upstream}"}
`
