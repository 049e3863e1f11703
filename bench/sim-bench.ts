// npm run bench:sim — how much load one simulator process sustains, and how faithfully it keeps its own clock.
//
// A closed loop of N concurrent streaming completions (default 1 000) against one in-process simulator at time scale 1.
// Reports requests/s, tokens/s, process CPU per 1k generated tokens (client and server share the process, so this is an
// upper bound on the simulator's cost), and the gap between the TTFT the client sees on the wall clock and the TTFT the
// engine simulated for the same request, at p50/p99: the simulator's own overhead (HTTP, tokenizing, timer lateness).
// The gap is split into inbound (client send → engine arrival: HTTP, JSON, tokenizer) and delivery (the engine's simulated
// first-token instant → the client has the chunk: timer lateness, event-loop contention, SSE). Each stream's first request is
// left out (it pays the TCP connect of 1 000 sockets opened at once).
//
// Flags: --concurrency N  --duration S  --prompt-tokens N  --output-tokens N  --max-num-seqs N  --hardware PROFILE
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { Agent, request } from 'undici'
import type { EngineRequest } from '../src/sim/engine.js'
import { startSimulator } from '../src/sim/start-simulator.js'

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '60' },
    'prompt-tokens': { type: 'string', default: '256' },
    'output-tokens': { type: 'string', default: '128' },
    'max-num-seqs': { type: 'string', default: '256' },
    hardware: { type: 'string', default: 'nvidia-t4' },
  },
})
const concurrency = Number(values.concurrency)
const durationMs = Number(values.duration) * 1000
const promptWords = Number(values['prompt-tokens'])
const outputTokens = Number(values['output-tokens'])

// The engine's view of every finished request, by the response id the client sees. Its clock starts (synchronously) inside
// startSimulator, so `origin` maps simulated instants onto performance.now() to within microseconds at time scale 1.
interface EngineView {
  arrival: number
  firstToken: number
}
const engineView = new Map<string, EngineView>()
const origin = performance.now()
const sim = await startSimulator(
  {
    port: 0,
    timeScale: 1,
    maxNumSeqs: Number(values['max-num-seqs']),
    maxWaitingQueueLength: concurrency * 2,
    hardware: values.hardware as 'nvidia-t4',
  },
  {
    requestFinished: (req: EngineRequest) => {
      if (req.firstTokenMs !== null) {
        engineView.set(req.id.replace(/-\d+$/, ''), { arrival: origin + req.arrivalMs, firstToken: origin + req.firstTokenMs })
      }
    },
  },
)

const agent = new Agent({ connections: concurrency, pipelining: 1 })
const url = `${sim.url}/v1/completions`
let seq = 0
// Plain English words (about one token each, as in guidellm's Pride and Prejudice prompts); every prompt starts with a
// unique number so prefix caching is not hit by accident (as guidellm does).
const WORDS = 'the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their has would when if so no will more can out some them into only its time could who also like then what other than now about over any new may two first after most very way such these even made many must well because back good those through'.split(' ')
const promptFor = (i: number) => `${i}: ` + Array.from({ length: promptWords - 4 }, (_, k) => WORDS[(k * 7 + i * 13 + ((k * k) % 11)) % WORDS.length]).join(' ')

interface Sample {
  id: string
  startedAt: number
  wallTtftMs: number
  tokens: number
  warm: boolean
}
const samples: Sample[] = []
let errors = 0
const started = performance.now()
const cpuStart = process.cpuUsage()
const loopDelay = monitorEventLoopDelay({ resolution: 5 })
loopDelay.enable()

async function one(warm: boolean): Promise<void> {
  const body = JSON.stringify({ prompt: promptFor(seq++), max_tokens: outputTokens, ignore_eos: true, stream: true, stream_options: { include_usage: true } })
  const t0 = performance.now()
  const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, dispatcher: agent })
  if (res.statusCode !== 200) {
    errors++
    await res.body.dump()
    return
  }
  let id = ''
  let ttft = -1
  let tokens = 0
  let tail = ''
  for await (const chunk of res.body) {
    const text = tail + (chunk as Buffer).toString('utf8')
    const events = text.split('\n\n')
    tail = events.pop() ?? ''
    for (const e of events) {
      if (!e.startsWith('data: {')) continue
      if (id === '') id = (JSON.parse(e.slice(6)) as { id: string }).id
      if (e.includes('"choices":[]')) continue
      tokens++
      if (ttft < 0) ttft = performance.now() - t0
    }
  }
  samples.push({ id, startedAt: t0, wallTtftMs: ttft, tokens, warm })
}

async function worker(): Promise<void> {
  for (let n = 0; performance.now() - started < durationMs; n++) {
    try {
      await one(n > 0)
    } catch {
      errors++
    }
  }
}

const progress = setInterval(() => {
  const s = (performance.now() - started) / 1000
  process.stderr.write(`  ${s.toFixed(0)} s: ${samples.length} requests done\n`)
}, 5000)
await Promise.all(Array.from({ length: concurrency }, () => worker()))
clearInterval(progress)
const elapsedS = (performance.now() - started) / 1000
const cpu = process.cpuUsage(cpuStart)
await sim.close()
await agent.close()

const tokens = samples.reduce((n, s) => n + s.tokens, 0)
const warm = samples.flatMap((s) => {
  const view = engineView.get(s.id)
  if (!s.warm || view === undefined || s.wallTtftMs < 0) return []
  const simulated = view.firstToken - view.arrival
  return [{ gap: s.wallTtftMs - simulated, inbound: view.arrival - s.startedAt, delivery: s.startedAt + s.wallTtftMs - view.firstToken }]
})
const wall = samples.map((s) => s.wallTtftMs).filter((t) => t >= 0)
const pct = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return Number((sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN).toFixed(2))
}
const p50p99 = (xs: number[]) => ({ p50: pct(xs, 50), p99: pct(xs, 99) })
const cpuS = (cpu.user + cpu.system) / 1e6
const report = {
  concurrency,
  durationS: Number(elapsedS.toFixed(1)),
  requests: samples.length,
  errors,
  requestsPerS: Number((samples.length / elapsedS).toFixed(1)),
  tokensPerS: Math.round(tokens / elapsedS),
  cpuCores: Number((cpuS / elapsedS).toFixed(2)),
  cpuMsPer1kTokens: Number(((cpuS * 1e6) / tokens).toFixed(1)),
  wallTtftMs: p50p99(wall),
  warmRequests: warm.length,
  ttftGapMs: p50p99(warm.map((w) => w.gap)),
  inboundMs: p50p99(warm.map((w) => w.inbound)),
  deliveryMs: p50p99(warm.map((w) => w.delivery)),
  eventLoopDelayMs: { p50: Number((loopDelay.percentile(50) / 1e6).toFixed(2)), p99: Number((loopDelay.percentile(99) / 1e6).toFixed(2)), max: Number((loopDelay.max / 1e6).toFixed(2)) },
}
console.log(JSON.stringify(report, null, 2))
console.log(
  `\n${report.requestsPerS} req/s, ${report.tokensPerS} tok/s, ${report.cpuMsPer1kTokens} CPU-ms per 1k tokens (${report.cpuCores} cores); ` +
    `TTFT wall − simulated: p50 ${report.ttftGapMs.p50} ms, p99 ${report.ttftGapMs.p99} ms`,
)
