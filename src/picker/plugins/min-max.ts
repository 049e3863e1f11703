import type { Endpoint } from '../framework/types.js'

/** `(max − v)/(max − min)` over the candidates (lower is better); 1.0 for all when every value is equal. */
export function minMaxLowerIsBetter(endpoints: readonly Endpoint[], value: (e: Endpoint) => number): Map<Endpoint, number> {
  let min = Infinity
  let max = -Infinity
  for (const e of endpoints) {
    const v = value(e)
    if (v < min) min = v
    if (v > max) max = v
  }
  const range = max - min
  return new Map(endpoints.map((e) => [e, range > 0 ? (max - value(e)) / range : 1]))
}
