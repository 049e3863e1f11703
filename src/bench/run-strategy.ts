import { setMaxListeners } from 'node:events'
import { sendStreamingRequest, type TargetOptions } from './openai-stream-request.js'
import { arrivalClock, closedLoopStreams, type Strategy } from './profile.js'
import type { RequestRecord } from './request-record.js'
import type { WorkItem, Workload } from './workload.js'

export interface RunLimits {
  /** Stop sending after this many seconds; requests still in flight then are cancelled (counted as incomplete). */
  maxSeconds?: number | undefined
  /** Stop sending after this many requests, then wait for their answers. */
  maxRequests?: number | undefined
}

export interface StrategyRun {
  records: RequestRecord[]
  /** From the first request sent to the last one answered. */
  durationMs: number
}

/** Sends a strategy's requests until a limit or the workload's end; `onRecord` sees each finished request (progress). */
export async function runStrategy(
  strategy: Strategy,
  workload: Workload,
  target: TargetOptions,
  limits: RunLimits,
  seed: number,
  onRecord: (record: RequestRecord) => void = () => {},
): Promise<StrategyRun> {
  if (limits.maxSeconds === undefined && limits.maxRequests === undefined && strategy.kind !== 'replay')
    throw new Error('a benchmark needs a bound: --max-seconds or --max-requests')
  const records: RequestRecord[] = []
  const abort = new AbortController()
  // Every request in flight listens on the run's signal: thousands at a time is expected, not a leak.
  setMaxListeners(0, abort.signal)
  const start = performance.now()
  const deadline = limits.maxSeconds === undefined ? Infinity : start + limits.maxSeconds * 1000
  const deadlineTimer = Number.isFinite(deadline) ? setTimeout(() => abort.abort(), deadline - start) : undefined
  let sent = 0
  const mayStart = () => !abort.signal.aborted && performance.now() < deadline && (limits.maxRequests === undefined || sent < limits.maxRequests)
  const send = async (item: WorkItem): Promise<void> => {
    sent++
    const { record, reply } = await sendStreamingRequest(target, item, start, abort.signal, workload.needsReplies)
    records.push(record)
    workload.finished(item, reply)
    onRecord(record)
  }

  const streams = closedLoopStreams(strategy)
  if (streams !== undefined) {
    await Promise.all(
      Array.from({ length: streams }, async () => {
        for (let item; mayStart() && (item = workload.next()) !== undefined; ) await send(item)
      }),
    )
  } else {
    const inFlight = new Set<Promise<void>>()
    const next = arrivalClock(strategy, seed)
    let at = 0
    for (let item; mayStart() && (item = workload.next()) !== undefined; ) {
      await waitUntil(start + (strategy.kind === 'replay' ? (item.at ?? 0) : at), deadline)
      if (!mayStart()) break
      const p = send(item)
      inFlight.add(p)
      void p.finally(() => inFlight.delete(p))
      if (next) at = next(at)
    }
    await Promise.all(inFlight)
  }
  clearTimeout(deadlineTimer)
  return { records, durationMs: performance.now() - start }
}

/** Sleeps until `time` (performance.now() ms), never past the deadline. setTimeout may wake late, never early. */
function waitUntil(time: number, deadline: number): Promise<void> {
  const ms = Math.min(time, deadline) - performance.now()
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve()
}
