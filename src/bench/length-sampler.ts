import type { SeededRandom } from '../sim/random.js'

export interface LengthSpec {
  mean: number
  stdev?: number | undefined
  min?: number | undefined
  max?: number | undefined
}

/**
 * Token counts drawn as GuideLLM's synthetic data draws them: normal(mean, stdev) clamped to [min, max] (min defaults to 1,
 * max to mean + 5 stdev); without a stdev but with min and max, uniform in [min, max]; otherwise always the mean.
 */
export function lengthSampler(spec: LengthSpec, random: SeededRandom): () => number {
  const { mean, stdev } = spec
  if (stdev !== undefined && stdev > 0) {
    const min = spec.min ?? 1
    const max = spec.max ?? mean + 5 * stdev
    return () => Math.round(Math.min(max, Math.max(min, mean + stdev * random.normal())))
  }
  if (spec.min !== undefined && spec.max !== undefined) {
    const { min, max } = spec
    return () => min + random.int(max - min + 1)
  }
  return () => mean
}
