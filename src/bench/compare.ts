import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import type { BenchSettings } from './bench-settings.js'
import { firstModel } from './bench-target.js'
import { workloadFactory } from './make-workload.js'
import { runBenchmark, type ProgressSink } from './run-benchmark.js'
import type { BenchmarkResult } from './report-schema.js'

export interface CompareOptions {
  settings: BenchSettings
  /** Simulated model servers run this many times faster than real time; reported figures are in simulated time. */
  timeScale: number
  model?: string | undefined
  progress?: ProgressSink | undefined
  log?: (line: string) => void
}

export interface CompareResult {
  config: string
  /** The run's figures, converted back to simulated time. */
  benchmark: BenchmarkResult
}

/**
 * What-if: for each stack file in turn, brings the stack up in this process (a StackRuntime on OS-chosen 127.0.0.1 ports,
 * fresh simulated replicas at `timeScale`), runs the same seeded workload through its gateway, reads the replicas'
 * /metrics before and after, and takes the stack down again.
 */
export async function runCompare(files: readonly string[], options: CompareOptions): Promise<CompareResult[]> {
  const { settings, timeScale } = options
  if (settings.profile === 'sweep') throw new Error('--compare runs one strategy per config: choose a profile other than sweep')
  const [{ deriveStack }, { loadStackOrDefault }, { StackRuntime }] = await Promise.all([
    import('../controller/derive-stack.js'),
    import('../cli/load-config.js'),
    import('../runtime/stack-runtime.js'),
  ])
  const results: CompareResult[] = []
  for (const file of files) {
    const stack = deriveStack(await loadStackOrDefault([file]))
    const stateDir = await mkdtemp(join(tmpdir(), 'maitred-bench-'))
    options.log?.(`bench: ${basename(file)}: starting the stack (time scale ${timeScale}×)`)
    const runtime = await StackRuntime.start(stack, {
      listenerPort: () => 0,
      bindHost: '127.0.0.1',
      accessLog: 'off',
      stateDir,
      log: () => {},
      simulatorOverrides: { timeScale },
    })
    try {
      const listener = runtime.listeners.find((l) => l.listener.protocol === 'HTTP') ?? runtime.listeners[0]
      const route = runtime.stack.routes[0]
      if (!listener || !route) throw new Error(`${file}: the stack has no gateway listener or no HTTPRoute to send requests through`)
      const prefix = (route.spec.rules.at(-1)?.matches[0]?.path?.value ?? '/').replace(/\/+$/, '')
      const baseUrl = `${listener.url}${prefix}/v1`
      const model = options.model ?? (await firstModel(baseUrl, undefined))
      const workload = await workloadFactory(settings.data, model, settings.seed)
      const report = await runBenchmark({
        target: { baseUrl, model, endpoint: settings.endpoint },
        profile: { kind: settings.profile, rate: scaled(settings.rate, timeScale), concurrency: settings.concurrency, maxConcurrency: settings.maxConcurrency, sweepSize: settings.sweepSize },
        limits: { maxSeconds: scaled(settings.maxSeconds, 1 / timeScale), maxRequests: settings.maxRequests },
        window: { warmup: settings.warmup < 1 ? settings.warmup : settings.warmup / timeScale, cooldown: settings.cooldown < 1 ? settings.cooldown : settings.cooldown / timeScale },
        seed: settings.seed,
        workload: workload.make,
        data: workload.description,
        metrics: [...runtime.simulators].map(([id, sim]) => ({ label: id, url: `${sim.url}/metrics` })).sort((a, b) => a.label.localeCompare(b.label)),
        progress: options.progress,
      })
      results.push({ config: file, benchmark: toSimulatedTime(report.benchmarks[0]!, timeScale) })
    } finally {
      await runtime.close()
      await rm(stateDir, { recursive: true, force: true })
    }
  }
  return results
}

const scaled = (v: number | undefined, factor: number) => (v === undefined ? undefined : v * factor)

/** Client-measured wall-clock figures of a time-scaled run, as simulated time: durations × scale, rates ÷ scale. */
export function toSimulatedTime(b: BenchmarkResult, timeScale: number): BenchmarkResult {
  const d = (x: BenchmarkResult['ttftMs']): BenchmarkResult['ttftMs'] => ({
    ...x,
    mean: x.mean * timeScale,
    min: x.min * timeScale,
    max: x.max * timeScale,
    p50: x.p50 * timeScale,
    p90: x.p90 * timeScale,
    p95: x.p95 * timeScale,
    p99: x.p99 * timeScale,
  })
  return {
    ...b,
    ...(b.strategy.rate !== undefined ? { strategy: { ...b.strategy, rate: b.strategy.rate / timeScale } } : {}),
    durationS: b.durationS * timeScale,
    measuredS: b.measuredS * timeScale,
    requestsPerSecond: b.requestsPerSecond / timeScale,
    outputTokensPerSecond: b.outputTokensPerSecond / timeScale,
    promptTokensPerSecond: b.promptTokensPerSecond / timeScale,
    ttftMs: d(b.ttftMs),
    itlMs: d(b.itlMs),
    tpotMs: d(b.tpotMs),
    latencyMs: d(b.latencyMs),
  }
}
