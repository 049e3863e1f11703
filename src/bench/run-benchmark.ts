import type { TargetOptions } from './openai-stream-request.js'
import { strategyName, sweepRates, type ProfileKind, type Strategy } from './profile.js'
import { REPORT_SCHEMA_VERSION, type BenchmarkResult, type Report } from './report-schema.js'
import type { RequestRecord } from './request-record.js'
import { runStrategy, type RunLimits } from './run-strategy.js'
import { metricsDelta, scrapeMetrics, type MetricsSource } from './server-metrics.js'
import { summarize, type MeasuredWindow } from './summarize.js'
import type { Workload } from './workload.js'

export interface ProfileOptions {
  kind: ProfileKind
  /** constant / poisson: requests per second. */
  rate?: number | undefined
  /** concurrent: streams. */
  concurrency?: number | undefined
  /** throughput (and a sweep's throughput run): requests in flight at most. */
  maxConcurrency: number
  /** sweep: benchmarks in all, the synchronous and throughput runs included (GuideLLM's sweep_size). */
  sweepSize: number
}

/** Live view of a run (src/bench/progress.ts). */
export interface ProgressSink {
  start(strategy: string, limits: RunLimits): void
  record(record: RequestRecord): void
  stop(): void
}

export interface BenchmarkOptions {
  target: TargetOptions
  profile: ProfileOptions
  limits: RunLimits
  window: MeasuredWindow
  seed: number
  /** A fresh workload for each strategy: every strategy of a sweep sees the same requests. */
  workload: () => Workload
  /** The workload's description, for the report. */
  data: string
  metrics: readonly MetricsSource[]
  progress?: ProgressSink | undefined
}

/** The strategy of a single-strategy profile. */
export function singleStrategy(p: ProfileOptions): Strategy {
  const need = (value: number | undefined, flag: string) => {
    if (value === undefined || !(value > 0)) throw new Error(`--profile ${p.kind} needs ${flag} (a positive number)`)
    return value
  }
  switch (p.kind) {
    case 'synchronous':
    case 'replay':
      return { kind: p.kind }
    case 'concurrent':
      return { kind: 'concurrent', streams: need(p.concurrency, '--concurrency N') }
    case 'throughput':
      return { kind: 'throughput', maxConcurrency: p.maxConcurrency }
    case 'constant':
    case 'poisson':
      return { kind: p.kind, rate: need(p.rate, '--rate R') }
    case 'sweep':
      throw new Error('a sweep is several strategies')
  }
}

/** Runs the profile's strategies one after another (a sweep: synchronous, throughput, then constant rates between). */
export async function runBenchmark(options: BenchmarkOptions): Promise<Report> {
  const benchmarks: BenchmarkResult[] = []
  const run = async (strategy: Strategy) => {
    const workload = options.workload()
    const before = await scrapeMetrics(options.metrics)
    options.progress?.start(strategyName(strategy), options.limits)
    const result = await runStrategy(strategy, workload, options.target, options.limits, options.seed, (r) => options.progress?.record(r)).finally(() =>
      options.progress?.stop(),
    )
    const after = await scrapeMetrics(options.metrics)
    const summary = summarize(strategy, result, options.window, metricsDelta(options.metrics, before, after))
    benchmarks.push(summary)
    return summary
  }
  if (options.profile.kind === 'sweep') {
    const floor = await run({ kind: 'synchronous' })
    const ceiling = await run({ kind: 'throughput', maxConcurrency: options.profile.maxConcurrency })
    for (const rate of sweepRates(floor.requestsPerSecond, ceiling.requestsPerSecond, Math.max(0, options.profile.sweepSize - 2)))
      await run({ kind: 'constant', rate })
  } else await run(singleStrategy(options.profile))
  return {
    schema: REPORT_SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    target: { url: options.target.baseUrl, model: options.target.model, endpoint: options.target.endpoint },
    data: options.data,
    profile: options.profile.kind,
    seed: options.seed,
    limits: {
      ...(options.limits.maxSeconds !== undefined ? { maxSeconds: options.limits.maxSeconds } : {}),
      ...(options.limits.maxRequests !== undefined ? { maxRequests: options.limits.maxRequests } : {}),
      warmup: options.window.warmup,
      cooldown: options.window.cooldown,
    },
    benchmarks,
  }
}
