import { z } from 'zod'

/** Kubernetes-style name: a DNS-1123 subdomain (lower-case alphanumerics, '-' and '.'). */
export const resourceName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lower-case DNS-1123 name')

export const labelMap = z.record(z.string().min(1), z.string())

export const objectMeta = z.strictObject({
  name: resourceName,
  namespace: resourceName.default('default'),
  labels: labelMap.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  /** Used for Gateway API tie-breaking (oldest route wins); defaults to load order. */
  creationTimestamp: z.string().optional(),
  generation: z.number().int().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
})
export type ObjectMeta = z.output<typeof objectMeta>

/** Gateway API Duration: up to four `<n>(h|m|s|ms)` groups, e.g. `10s`, `1m30s`, `0s`. */
export const gatewayDuration = z
  .string()
  .regex(/^([0-9]{1,5}(h|m|s|ms)){1,4}$/, 'must be a Gateway API duration such as 10s, 1m30s or 0s')

export function durationToMs(duration: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 }
  let total = 0
  for (const [, value, unit] of duration.matchAll(/([0-9]+)(ms|h|m|s)/g)) total += Number(value) * (units[unit!] ?? 0)
  return total
}
