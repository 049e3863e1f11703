import { LatencyHistogram } from './latency-histogram.js'
import { closedLoopStreams, strategyName, type Strategy } from './profile.js'
import type { BenchmarkResult, LoggedRequest } from './report-schema.js'
import type { RequestRecord } from './request-record.js'
import type { StrategyRun } from './run-strategy.js'
import type { ServerMetricsReport } from './server-metrics.js'

/** Warm-up and cool-down: a fraction of the run (< 1) or seconds (≥ 1). */
export interface MeasuredWindow {
  warmup: number
  cooldown: number
}

const windowMs = (value: number, durationMs: number) => (value < 1 ? value * durationMs : value * 1000)

/** GuideLLM's statistics of one strategy run: requests sent in the warm-up or still running in the cool-down are left out. */
export function summarize(strategy: Strategy, run: StrategyRun, window: MeasuredWindow, server: ServerMetricsReport | undefined): BenchmarkResult {
  const from = windowMs(window.warmup, run.durationMs)
  const to = run.durationMs - windowMs(window.cooldown, run.durationMs)
  const log: LoggedRequest[] = run.records.map((r) => ({ ...withoutUndefined(r), excluded: r.startedAt < from || r.startedAt + r.latencyMs > to }))
  const measured = run.records.filter((_, i) => !log[i]!.excluded)
  const ok = measured.filter((r) => r.status === 'ok')
  const errorsByKind: Record<string, number> = {}
  for (const r of measured) if (r.status === 'error') errorsByKind[r.error ?? 'unknown'] = (errorsByKind[r.error ?? 'unknown'] ?? 0) + 1
  const first = Math.min(...measured.map((r) => r.startedAt))
  const last = Math.max(...measured.map((r) => r.startedAt + r.latencyMs))
  const measuredS = measured.length > 0 ? Math.max(0.001, (last - first) / 1000) : 0
  const perSecond = (n: number) => (measuredS > 0 ? n / measuredS : 0)
  const dist = (pick: (r: RequestRecord) => number | undefined) => LatencyHistogram.of(ok.map(pick).filter((v): v is number => v !== undefined)).summary()
  const streams = closedLoopStreams(strategy)
  return {
    strategy: {
      name: strategyName(strategy),
      kind: strategy.kind,
      ...('rate' in strategy ? { rate: strategy.rate } : {}),
      ...(streams !== undefined ? { streams } : {}),
    },
    durationS: run.durationMs / 1000,
    measuredS,
    requests: {
      sent: run.records.length,
      measured: measured.length,
      ok: ok.length,
      errors: measured.filter((r) => r.status === 'error').length,
      incomplete: measured.filter((r) => r.status === 'incomplete').length,
    },
    errorsByKind,
    requestsPerSecond: perSecond(ok.length),
    outputTokensPerSecond: perSecond(ok.reduce((n, r) => n + r.outputTokens, 0)),
    promptTokensPerSecond: perSecond(ok.reduce((n, r) => n + (r.promptTokens ?? 0), 0)),
    // Little's law over the window: the time requests spent in flight divided by the window's length.
    meanConcurrency: perSecond(measured.reduce((n, r) => n + r.latencyMs / 1000, 0)),
    ttftMs: dist((r) => r.ttftMs),
    itlMs: dist((r) => r.itlMs),
    tpotMs: dist((r) => r.tpotMs),
    latencyMs: dist((r) => r.latencyMs),
    outputTokens: dist((r) => r.outputTokens),
    ...(server ? { server } : {}),
    requestLog: log,
  }
}

/** JSON has no undefined: optional fields are left out rather than written as null. */
function withoutUndefined(r: RequestRecord): Omit<LoggedRequest, 'excluded'> {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as Omit<LoggedRequest, 'excluded'>
}
