import { SeededRandom } from '../sim/random.js'

/**
 * One load strategy, as GuideLLM names them. Closed loops keep `streams` requests in flight (synchronous: 1; throughput:
 * as many as `maxConcurrency` allows); open loops send on a schedule whatever the answers take (constant: every 1/rate s;
 * poisson: exponential gaps of mean 1/rate s; replay: at the trace's timestamps).
 */
export type Strategy =
  | { kind: 'synchronous' }
  | { kind: 'concurrent'; streams: number }
  | { kind: 'throughput'; maxConcurrency: number }
  | { kind: 'constant'; rate: number }
  | { kind: 'poisson'; rate: number }
  | { kind: 'replay' }

export const PROFILE_KINDS = ['synchronous', 'concurrent', 'throughput', 'constant', 'poisson', 'sweep', 'replay'] as const
export type ProfileKind = (typeof PROFILE_KINDS)[number]

export function strategyName(s: Strategy): string {
  switch (s.kind) {
    case 'concurrent':
      return `concurrent@${s.streams}`
    case 'constant':
    case 'poisson':
      return `${s.kind}@${round(s.rate)}/s`
    default:
      return s.kind
  }
}

const round = (x: number) => Math.round(x * 100) / 100

/** Requests in flight a closed loop keeps; undefined for open loops. */
export function closedLoopStreams(s: Strategy): number | undefined {
  if (s.kind === 'synchronous') return 1
  if (s.kind === 'concurrent') return s.streams
  if (s.kind === 'throughput') return s.maxConcurrency
  return undefined
}

/** For open loops: the send time (ms after the start) of request i+1, given request i's; seeded for poisson. */
export function arrivalClock(s: Strategy, seed: number): ((previousMs: number) => number) | undefined {
  if (s.kind === 'constant') return (previous) => previous + 1000 / s.rate
  if (s.kind === 'poisson') {
    const random = new SeededRandom(seed)
    return (previous) => previous - (Math.log(1 - random.next()) * 1000) / s.rate
  }
  return undefined
}

/**
 * A sweep's constant rates: `count` rates evenly spaced strictly between the synchronous run's rate (the floor) and the
 * throughput run's (the saturation point), as GuideLLM's sweep places them.
 */
export function sweepRates(synchronousRate: number, throughputRate: number, count: number): number[] {
  const step = (throughputRate - synchronousRate) / (count + 1)
  return Array.from({ length: count }, (_, i) => synchronousRate + step * (i + 1))
}
