// npm run bench:sim — how much load one simulator process sustains, and how faithfully it keeps its own clock.
//
// One simulator (this process, time scale 1) under a closed loop of N concurrent streaming completions (default 1 000) from a
// load generator in a child process (so the two do not share a core or an event loop). Reports requests/s, tokens/s, the
// simulator process's CPU per 1k generated tokens, and the gap between the TTFT the client sees on the wall clock and the
// TTFT the engine simulated for the same request, at p50/p99: the simulator's own overhead. The wall clock starts just
// before the request's bytes are written to its socket and stops when the first token event's last bytes are read. The gap
// is split into inbound (the request written → engine arrival: HTTP, JSON, tokenizer) and delivery (the engine's simulated
// first-token instant → the client has the chunk: timer lateness, event-loop contention, SSE). Each stream's first request
// is left out (it pays the TCP connect of 1 000 sockets opened at once). The load generator (bench/sim-load-client.ts) is a
// raw HTTP/1.1 client that counts token events in the bytes it reads, so that its own delays stay small; its event-loop
// utilization is reported: near 1, the gap is the client's.
//
// When there are two or more cores and `taskset` is at hand (reported as `pinned`), the simulator's event-loop thread gets
// core 0 to itself, and its helper threads (V8's GC and compiler workers, libuv's pool) share core 1 with the load
// generator. Left to the kernel, two delays of the machine, not of the simulator's work, showed up in the gap: the load
// generator was often woken onto the core where the simulator was writing a step's tokens, and read its first token only
// once the simulator was preempted (≈ 3–4 ms in ≈ 15 % of the gaps); and the simulator's own background threads took its
// event loop's core for a few ms at a time, in the middle of a step's outputs or a cohort's intake. The work, the GC pauses
// and the sockets are the same either way; --unpinned measures without. `otherCpuCores` is what other processes of the
// machine used meanwhile: above ≈ 0.1 the run was disturbed.
//
// The npm script runs Node with --max-semi-space-size=64: a larger young generation halves the GC time of a process holding
// 1 000 live requests (p99 gap ≈ 120 → 45 ms in our runs); simulator processes spawned by the runtime benefit the same way.
// Re-tested pinned: 16 or 32 MB make the scavenges shorter (≈ 1.6 / 3 ms vs ≈ 4.6 ms) but 4× / 2× as many, for more GC time
// and no p99 change beyond the run-to-run spread.
//
// Flags: --concurrency N  --duration S  --prompt-tokens N  --output-tokens N  --max-num-seqs N  --hardware PROFILE  --unpinned
import { execFileSync, fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { PerformanceObserver, monitorEventLoopDelay, performance as perfHooks } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ScaledClock } from '../src/sim/clock.js'
import type { EngineRequest } from '../src/sim/engine.js'
import type { GpuProfileName } from '../src/sim/hardware-profile.js'
import { startSimulator } from '../src/sim/start-simulator.js'
import type { LoadConfig, LoadResult } from './sim-load-client.js'

const eventLoopUtilization = perfHooks.eventLoopUtilization.bind(perfHooks)

await main()

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      concurrency: { type: 'string', default: '1000' },
      duration: { type: 'string', default: '60' },
      'prompt-tokens': { type: 'string', default: '256' },
      'output-tokens': { type: 'string', default: '128' },
      'max-num-seqs': { type: 'string', default: '256' },
      hardware: { type: 'string', default: 'nvidia-t4' },
      unpinned: { type: 'boolean', default: false },
    },
  })
  const concurrency = Number(values.concurrency)

  // The engine's view of every finished request, by the response id the client sees; its clock's origin maps its instants
  // onto the epoch.
  const engineView = new Map<string, { arrival: number; firstToken: number }>()
  const clock = new ScaledClock(1)
  const origin = performance.timeOrigin + clock.origin
  const sim = await startSimulator(
    { port: 0, timeScale: 1, maxNumSeqs: Number(values['max-num-seqs']), maxWaitingQueueLength: concurrency * 2, hardware: values.hardware as GpuProfileName },
    {
      clock,
      requestFinished: (req: EngineRequest) => {
        if (req.firstTokenMs !== null) engineView.set(req.id.replace(/-\d+$/, ''), { arrival: origin + req.arrivalMs, firstToken: origin + req.firstTokenMs })
      },
    },
  )

  const client = fork(fileURLToPath(new URL('./sim-load-client.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' })
  // Core 0 for the simulator's event loop alone; its helper threads (GC, compiler, libuv) and the load generator on core 1.
  const pinned =
    !values.unpinned && availableParallelism() >= 2 && pin(client.pid as number, 1, true) && pin(process.pid, 1, true) && pin(process.pid, 0, false)
  // Garbage-collection pauses in the simulator process, by kind (V8 pauses the event loop for them).
  const gcPauses = { minor: 0, major: 0, majorMaxMs: 0, totalMs: 0 }
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const major = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === 4 // NODE_PERFORMANCE_GC_MAJOR
      if (major) gcPauses.majorMaxMs = Math.max(gcPauses.majorMaxMs, e.duration)
      gcPauses[major ? 'major' : 'minor']++
      gcPauses.totalMs += e.duration
    }
  })
  gcObserver.observe({ entryTypes: ['gc'] })
  const loopDelay = monitorEventLoopDelay({ resolution: 1 })
  loopDelay.enable()
  const cpuStart = process.cpuUsage()
  const machineStart = machineCpuS()
  const elu = eventLoopUtilization()
  const config: LoadConfig = {
    url: `${sim.url}/v1/completions`,
    concurrency,
    durationMs: Number(values.duration) * 1000,
    promptTokens: Number(values['prompt-tokens']),
    outputTokens: Number(values['output-tokens']),
  }
  client.send(config)
  const result = await new Promise<LoadResult>((resolve) => client.once('message', (m) => resolve(m as LoadResult)))
  const cpu = process.cpuUsage(cpuStart)
  const machineS = machineCpuS() - machineStart
  const busy = eventLoopUtilization(elu)
  loopDelay.disable()
  gcObserver.disconnect()
  await sim.close()

  const { samples } = result
  const elapsedS = result.elapsedMs / 1000
  const tokens = samples.reduce((n, s) => n + s.tokens, 0)
  const warm = samples.flatMap((s) => {
    const view = engineView.get(s.id)
    if (!s.warm || view === undefined || s.wallTtftMs < 0) return []
    const simulated = view.firstToken - view.arrival
    return [{ gap: s.wallTtftMs - simulated, inbound: view.arrival - s.startedAt, delivery: s.startedAt + s.wallTtftMs - view.firstToken }]
  })
  const simCpuS = (cpu.user + cpu.system) / 1e6
  const report = {
    config: { ...config, url: undefined, maxNumSeqs: Number(values['max-num-seqs']), hardware: values.hardware, pinned },
    durationS: round(elapsedS, 1),
    requests: samples.length,
    errors: result.errors,
    requestsPerS: round(samples.length / elapsedS, 1),
    tokensPerS: Math.round(tokens / elapsedS),
    simulatorCpuCores: round(simCpuS / elapsedS, 2),
    simulatorCpuMsPer1kTokens: round((simCpuS * 1e6) / tokens, 1),
    otherCpuCores: round(Math.max(0, machineS - simCpuS - result.cpuMs / 1e3) / elapsedS, 2),
    simulatorEventLoopUtilization: round(busy.utilization, 2),
    clientCpuMsPer1kTokens: round((result.cpuMs * 1e3) / tokens, 1),
    clientEventLoopUtilization: round(result.eventLoopUtilization, 2),
    wallTtftMs: p50p99(samples.map((s) => s.wallTtftMs).filter((t) => t >= 0)),
    warmRequests: warm.length,
    ttftGapMs: p50p99(warm.map((w) => w.gap)),
    inboundMs: p50p99(warm.map((w) => w.inbound)),
    deliveryMs: p50p99(warm.map((w) => w.delivery)),
    gcPauses: { ...gcPauses, majorMaxMs: round(gcPauses.majorMaxMs, 1), totalMs: Math.round(gcPauses.totalMs), heapMB: Math.round(process.memoryUsage().heapUsed / 2 ** 20) },
    eventLoopDelayMs: { p50: round(loopDelay.percentile(50) / 1e6, 2), p99: round(loopDelay.percentile(99) / 1e6, 2), max: round(loopDelay.max / 1e6, 2) },
  }
  console.log(JSON.stringify(report, null, 2))
  console.log(
    `\n${report.requestsPerS} req/s, ${report.tokensPerS} tok/s, simulator ${report.simulatorCpuMsPer1kTokens} CPU-ms per 1k tokens ` +
      `(${report.simulatorCpuCores} cores); TTFT wall − simulated: p50 ${report.ttftGapMs.p50} ms, p99 ${report.ttftGapMs.p99} ms`,
  )
}

/** Restricts a process's main thread (with allThreads, every thread it has) to one CPU; false where taskset is missing. */
function pin(pid: number, cpu: number, allThreads: boolean): boolean {
  try {
    execFileSync('taskset', [...(allThreads ? ['-a'] : []), '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** CPU seconds the whole machine has spent busy since boot (Linux /proc/stat: user, nice, system, irq, softirq, steal). */
function machineCpuS(): number {
  try {
    const fields = readFileSync('/proc/stat', 'latin1').split('\n')[0]!.trim().split(/\s+/).map(Number)
    return (fields[1]! + fields[2]! + fields[3]! + fields[6]! + fields[7]! + fields[8]!) / 100
  } catch {
    return NaN
  }
}

function round(x: number, digits: number): number {
  return Number(x.toFixed(digits))
}

function p50p99(xs: number[]): { p50: number; p99: number } {
  const sorted = [...xs].sort((a, b) => a - b)
  const at = (p: number) => round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN, 2)
  return { p50: at(50), p99: at(99) }
}
