/**
 * `npm run bench:picker`: the in-process picker's decision latency with the default config (queue 2, kv 2,
 * prefix 3), for 8/64/512 endpoints × 1k/8k/32k-token prompts, and the prefix index's memory after 1M distinct
 * blocks. Metrics come from a canned /metrics text per endpoint (injected fetch), so only picking is timed.
 * Goal (issue 4): p99 < 1 ms at 64 endpoints with 8k-token prompts; index memory bounded by its capacity.
 */
import { createInProcessPicker } from '../src/picker/in-process-picker.js'
import { PrefixIndex } from '../src/picker/datalayer/prefix-index.js'
import type { EndpointRef } from '../src/picker/endpoint.js'
import { availableParallelism, loadavg } from 'node:os'

const ENDPOINTS = [8, 64, 512]
const PROMPT_TOKENS = [1_000, 8_000, 32_000]
const GROUPS = 16 // distinct shared system prompts
const WARMUP = 200
const PICKS = Number(process.env.PICKS ?? 2000)

function refs(n: number): EndpointRef[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `bench/pod-${i}`,
    name: `pod-${i}`,
    namespace: 'bench',
    address: `127.0.0.1:${10000 + i}`,
    url: `http://127.0.0.1:${10000 + i}`,
    labels: {},
  }))
}

/** A fetch that serves vLLM metrics text per endpoint port, varied so the scorers have something to do. */
const cannedFetch: typeof fetch = async (input) => {
  const port = Number(new URL(String(input)).port)
  const text = `vllm:num_requests_waiting{model_name="m"} ${port % 7}\nvllm:num_requests_running{model_name="m"} ${port % 11}\nvllm:kv_cache_usage_perc{model_name="m"} ${(port % 10) / 10}\n`
  return new Response(text, { status: 200 })
}

/**
 * Chat bodies of ~`tokens` tokens (4 chars/token): 80% a group's shared system prompt, 20% a unique question.
 * Made one at a time, as a gateway parses one body per request (holding thousands of 128 KB bodies would time the GC).
 */
function bodyMaker(tokens: number): (i: number) => Record<string, unknown> {
  const chars = tokens * 4
  const systems = Array.from({ length: GROUPS }, (_, g) => `Group ${g} policy. `.padEnd(32, '.').repeat(Math.ceil((chars * 0.8) / 32)).slice(0, chars * 0.8))
  // A pool of question bodies keeps the bench's own garbage small, so the GC pauses timed are the picker's.
  const questions = Array.from({ length: 97 }, (_, q) => String.fromCharCode(97 + (q % 26)).repeat(chars * 0.2))
  return (i) => ({
    model: 'm',
    messages: [
      { role: 'system', content: systems[i % GROUPS] },
      { role: 'user', content: `Question ${i}: ${questions[i % questions.length]}` },
    ],
  })
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

async function latency(endpoints: number, tokens: number) {
  const picker = createInProcessPicker({ config: undefined, poolName: 'bench', scrapeIntervalMs: 3_600_000, fetch: cannedFetch })
  picker.setEndpoints(refs(endpoints))
  const body = bodyMaker(tokens)
  const wall: number[] = []
  const cpu: number[] = []
  for (let i = 0; i < WARMUP + PICKS; i++) {
    const request = { requestId: `r${i}`, path: '/v1/chat/completions', headers: {}, body: body(i) }
    const cpuStart = process.cpuUsage()
    const start = performance.now()
    const d = await picker.pick(request)
    const ms = performance.now() - start
    const used = process.cpuUsage(cpuStart)
    picker.complete({ decision: d, requestId: `r${i}`, endpoint: d.endpoint, status: 200 })
    if (i < WARMUP) continue
    wall.push(ms)
    cpu.push((used.user + used.system) / 1000)
  }
  await picker.close()
  wall.sort((a, b) => a - b)
  cpu.sort((a, b) => a - b)
  return { p50: quantile(wall, 0.5), p99: quantile(wall, 0.99), cpuP50: quantile(cpu, 0.5), cpuP99: quantile(cpu, 0.99) }
}

function heapMB(): number {
  globalThis.gc?.()
  globalThis.gc?.()
  return process.memoryUsage().heapUsed / 2 ** 20
}

function indexMemory(endpoints: number, capacityPerEndpoint: number, blocks: number) {
  const before = heapMB()
  const index = new PrefixIndex(capacityPerEndpoint)
  const batch: number[] = []
  for (let b = 0; b < blocks; b++) {
    batch.push(b * 2654435761 % 2 ** 52) // distinct 52-bit keys, like the hasher's
    if (batch.length === 64) {
      index.add(`pod-${(b >> 6) % endpoints}`, batch)
      batch.length = 0
    }
  }
  const after = heapMB()
  return { size: index.size(), mb: after - before, bytesPerBlock: ((after - before) * 2 ** 20) / index.size(), keep: index }
}

async function main() {
  if (!globalThis.gc) console.error('note: run with --expose-gc (npm run bench:picker does) for exact memory numbers')
  console.log(`decision latency, default config, ${PICKS} picks after ${WARMUP} warm-up, ${GROUPS} shared-prefix groups`)
  // Wall time includes time the OS gave to other processes; CPU time (process.cpuUsage, all threads) does not.
  console.log(`load average: ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores`)
  console.log('endpoints  prompt_tokens  p50_ms  p99_ms  cpu_p50_ms  cpu_p99_ms')
  for (const n of ENDPOINTS) {
    for (const t of PROMPT_TOKENS) {
      const r = await latency(n, t)
      const cells = [r.p50, r.p99, r.cpuP50, r.cpuP99].map((x, i) => x.toFixed(3).padStart(i < 2 ? 6 : 10))
      console.log(`${String(n).padStart(9)}  ${String(t).padStart(13)}  ${cells.join('  ')}`)
    }
  }
  console.log('\nprefix index memory after 1M distinct blocks')
  console.log('endpoints  capacity/endpoint  blocks_held  heap_MB  bytes/block')
  for (const [n, cap] of [[64, 31250], [8, 31250]] as const) {
    const m = indexMemory(n, cap, 1_000_000)
    console.log(`${String(n).padStart(9)}  ${String(cap).padStart(17)}  ${String(m.size).padStart(11)}  ${m.mb.toFixed(1).padStart(7)}  ${m.bytesPerBlock.toFixed(0).padStart(11)}`)
  }
}

await main()
