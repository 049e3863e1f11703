import { z } from 'zod'

/**
 * The JSON report of `maitred bench --output report.json`. Versioned by `schema`: fields may be added within a version,
 * never renamed or removed. Times are milliseconds unless the name says seconds.
 */
export const REPORT_SCHEMA_VERSION = 'maitred.bench/v1'

const distribution = z.strictObject({
  count: z.number().int().min(0),
  mean: z.number(),
  min: z.number(),
  max: z.number(),
  p50: z.number(),
  p90: z.number(),
  p95: z.number(),
  p99: z.number(),
})

const requestRecord = z.strictObject({
  startedAt: z.number(),
  ttftMs: z.number().optional(),
  itlMs: z.number().optional(),
  tpotMs: z.number().optional(),
  latencyMs: z.number(),
  promptTokens: z.number().int().optional(),
  outputTokens: z.number().int(),
  status: z.enum(['ok', 'error', 'incomplete']),
  error: z.string().optional(),
  endpoint: z.string().optional(),
  group: z.number().int(),
  /** Excluded from the statistics: sent during the warm-up or answered during the cool-down. */
  excluded: z.boolean(),
})

const serverMetrics = z.strictObject({
  prefixCacheHitRate: z.number().nullable(),
  preemptions: z.number(),
  endpoints: z.array(z.strictObject({ label: z.string(), requests: z.number(), share: z.number() })),
})

export const benchmarkSchema = z.strictObject({
  strategy: z.strictObject({
    name: z.string(),
    kind: z.enum(['synchronous', 'concurrent', 'throughput', 'constant', 'poisson', 'replay']),
    rate: z.number().optional(),
    streams: z.number().int().optional(),
  }),
  durationS: z.number(),
  /** The measured window (after warm-up, before cool-down), over which rates are computed. */
  measuredS: z.number(),
  requests: z.strictObject({
    sent: z.number().int(),
    measured: z.number().int(),
    ok: z.number().int(),
    errors: z.number().int(),
    incomplete: z.number().int(),
  }),
  errorsByKind: z.record(z.string(), z.number().int()),
  requestsPerSecond: z.number(),
  outputTokensPerSecond: z.number(),
  promptTokensPerSecond: z.number(),
  meanConcurrency: z.number(),
  ttftMs: distribution,
  itlMs: distribution,
  tpotMs: distribution,
  latencyMs: distribution,
  outputTokens: distribution,
  /** From the servers' /metrics: counter differences over the run; absent when none was reachable. */
  server: serverMetrics.optional(),
  requestLog: z.array(requestRecord),
})

export const reportSchema = z.strictObject({
  schema: z.literal(REPORT_SCHEMA_VERSION),
  createdAt: z.iso.datetime(),
  target: z.strictObject({ url: z.string(), model: z.string(), endpoint: z.enum(['chat', 'completions']) }),
  data: z.string(),
  profile: z.string(),
  seed: z.number().int(),
  limits: z.strictObject({
    maxSeconds: z.number().optional(),
    maxRequests: z.number().int().optional(),
    warmup: z.number(),
    cooldown: z.number(),
  }),
  benchmarks: z.array(benchmarkSchema),
})

export type Report = z.output<typeof reportSchema>
export type BenchmarkResult = z.output<typeof benchmarkSchema>
export type LoggedRequest = z.output<typeof requestRecord>

/** Reads a report back, with an error that names the field that does not fit. */
export function parseReport(json: unknown): Report {
  const parsed = reportSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new Error(`not a ${REPORT_SCHEMA_VERSION} report: ${issue.path.join('.')}: ${issue.message}`)
  }
  return parsed.data
}
