import { z } from 'zod'

/** Every picker's one parameter: how many endpoints to return (the first is the target, the rest fallbacks). */
export const pickerParameters = z.strictObject({ maxNumOfEndpoints: z.number().int().positive().default(1) })
export type PickerParams = z.infer<typeof pickerParameters>

/** Up to n distinct items in uniformly random order (partial Fisher–Yates on a copy). */
export function randomSample<T>(items: readonly T[], n: number, random: () => number): T[] {
  const copy = [...items]
  const k = Math.min(n, copy.length)
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (copy.length - i))
    ;[copy[i], copy[j]] = [copy[j]!, copy[i]!]
  }
  return copy.slice(0, k)
}
