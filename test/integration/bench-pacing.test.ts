import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { TargetOptions } from '../../src/bench/openai-stream-request.js'
import { arrivalClock, type Strategy } from '../../src/bench/profile.js'
import { runBenchmark } from '../../src/bench/run-benchmark.js'
import { runStrategy, type RunLimits } from '../../src/bench/run-strategy.js'
import { TraceWorkload } from '../../src/bench/trace-workload.js'
import type { WorkItem, Workload } from '../../src/bench/workload.js'
import { EstimatingTokenizer } from '../../src/sim/tokenizer.js'
import { startSimulator, type RunningSimulator } from '../../src/sim/start-simulator.js'
import { startScriptedServer, type ScriptedServer } from './scripted-openai-server.js'

const item: WorkItem = { group: 0, conversation: 0, turn: 1, prompt: 'hello there', prefix: '', history: [], maxTokens: 4 }
const endless: Workload = { description: 'fixed', needsReplies: false, next: () => item, finished: () => {} }

let server: ScriptedServer | undefined
let sim: RunningSimulator | undefined
afterEach(async () => {
  await server?.close()
  await sim?.close()
  server = sim = undefined
})

const run = (s: ScriptedServer, strategy: Strategy, limits: RunLimits, workload = endless) =>
  runStrategy(strategy, workload, { baseUrl: s.baseUrl, model: 'm', endpoint: 'chat' }, limits, 7)

describe('bench profiles pace as GuideLLM does', () => {
  it('synchronous sends one request at a time', async () => {
    server = await startScriptedServer({ ttftMs: 10 })
    const { records } = await run(server, { kind: 'synchronous' }, { maxRequests: 6 })
    expect(records).toHaveLength(6)
    expect(server.maxInFlight).toBe(1)
  })

  it('concurrent keeps N streams in flight; throughput keeps max-concurrency in flight', async () => {
    // Answers slow enough that every stream's request is in before the first one ends, even on a busy machine.
    server = await startScriptedServer({ ttftMs: 150 })
    await run(server, { kind: 'concurrent', streams: 4 }, { maxRequests: 16 })
    expect(server.maxInFlight).toBe(4)
    await server.close()
    server = await startScriptedServer({ ttftMs: 150 })
    const { records } = await run(server, { kind: 'throughput', maxConcurrency: 12 }, { maxRequests: 36 })
    expect(records).toHaveLength(36)
    expect(server.maxInFlight).toBe(12)
  })

  it('constant sends every 1/rate seconds, however long the answers take', async () => {
    server = await startScriptedServer({ ttftMs: 100 })
    const { records } = await run(server, { kind: 'constant', rate: 40 }, { maxRequests: 40 })
    const starts = records.map((r) => r.startedAt).sort((a, b) => a - b)
    // Within 4 % here (a first send delayed by a busy machine shortens the span); the 20 s test below holds 2 %.
    expect(Math.abs((starts.at(-1)! - starts[0]!) / 39 - 25)).toBeLessThan(1)
    expect(server.maxInFlight).toBeGreaterThan(2) // open loop: answers take 4 gaps
  })

  it('poisson gaps are exponential with mean 1/rate, and the same seed gives the same arrivals', () => {
    const schedule = () => {
      const next = arrivalClock({ kind: 'poisson', rate: 50 }, 3)!
      const times = [0]
      for (let i = 0; i < 5000; i++) times.push(next(times.at(-1)!))
      return times
    }
    const times = schedule()
    expect(times.at(-1)! / 5000).toBeGreaterThan(20 * 0.97)
    expect(times.at(-1)! / 5000).toBeLessThan(20 * 1.03)
    const gaps = times.slice(1).map((t, i) => t - times[i]!)
    // Exponential: the median gap is ln 2 of the mean.
    const median = [...gaps].sort((a, b) => a - b)[2500]!
    expect(median / 20).toBeCloseTo(Math.LN2, 1)
    expect(schedule()).toEqual(times)
  })

  it('replay sends each trace line at its timestamp', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'maitred-bench-'))
    const file = join(dir, 'trace.jsonl')
    await writeFile(file, ['{"timestamp":10.0,"prompt_tokens":8,"output_tokens":2}', '{"timestamp":10.3,"prompt":"hi"}', '{"timestamp":10.1,"prompt":"yo"}'].join('\n'))
    try {
      server = await startScriptedServer()
      const workload = new TraceWorkload(file, new EstimatingTokenizer(), 1)
      const { records } = await run(server, { kind: 'replay' }, {}, workload)
      const starts = records.map((r) => r.startedAt).sort((a, b) => a - b)
      expect(starts).toHaveLength(3)
      expect(starts[1]! - starts[0]!).toBeGreaterThan(95)
      expect(starts[1]! - starts[0]!).toBeLessThan(140)
      expect(starts[2]! - starts[0]!).toBeGreaterThan(295)
      expect(starts[2]! - starts[0]!).toBeLessThan(340)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('max-seconds stops sending and cancels what is still in flight (incomplete, not errors)', async () => {
    server = await startScriptedServer({ ttftMs: 5000 })
    const started = performance.now()
    const { records } = await run(server, { kind: 'concurrent', streams: 3 }, { maxSeconds: 0.3 })
    expect(performance.now() - started).toBeLessThan(2000)
    expect(records.map((r) => r.status)).toEqual(['incomplete', 'incomplete', 'incomplete'])
  })

  it('sweep: synchronous, throughput, then constant rates evenly spaced strictly between their measured rates', async () => {
    server = await startScriptedServer({ ttftMs: 20 })
    const report = await runBenchmark({
      target: { baseUrl: server.baseUrl, model: 'm', endpoint: 'chat' },
      profile: { kind: 'sweep', maxConcurrency: 8, sweepSize: 5 },
      limits: { maxRequests: 16 },
      window: { warmup: 0, cooldown: 0 },
      seed: 1,
      workload: () => endless,
      data: 'fixed',
      metrics: [],
    })
    const [sync, throughput, ...constant] = report.benchmarks
    expect(report.benchmarks.map((b) => b.strategy.kind)).toEqual(['synchronous', 'throughput', 'constant', 'constant', 'constant'])
    expect(throughput!.requestsPerSecond).toBeGreaterThan(sync!.requestsPerSecond * 2)
    const rates = constant.map((b) => b.strategy.rate!)
    const step = (throughput!.requestsPerSecond - sync!.requestsPerSecond) / 4
    rates.forEach((rate, i) => expect(rate).toBeCloseTo(sync!.requestsPerSecond + step * (i + 1), 6))
  })

  it('a constant rate holds within 2 % over 20 s against the simulator (time scale 10)', { timeout: 60_000 }, async () => {
    sim = await startSimulator({ port: 0, timeScale: 10, model: 'Qwen/Qwen3-0.6B' })
    const target: TargetOptions = { baseUrl: `${sim.url}/v1`, model: 'Qwen/Qwen3-0.6B', endpoint: 'completions' }
    const { records, durationMs } = await runStrategy({ kind: 'constant', rate: 20 }, endless, target, { maxSeconds: 20 }, 1)
    const sent = records.length
    const starts = records.map((r) => r.startedAt).sort((a, b) => a - b)
    // 20 s at 20/s: 400 sends (401 when the last one lands on the deadline), evenly spaced.
    expect(Math.abs(sent - 400)).toBeLessThanOrEqual(8)
    expect(Math.abs((sent - 1) / ((starts.at(-1)! - starts[0]!) / 1000) - 20)).toBeLessThan(0.4)
    expect(records.filter((r) => r.status === 'error')).toEqual([])
    expect(durationMs).toBeLessThan(21_000)
  })
})
