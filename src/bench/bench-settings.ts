import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { PROFILE_KINDS } from './profile.js'

const positive = z.coerce.number().positive()

/**
 * Everything that shapes a benchmark's load, whether given as flags or as a `--workload` YAML file (the same names in
 * camelCase: `profile: concurrent`, `concurrency: 4`, `maxRequests: 100`, `data: "prompt_tokens=…"`). Flags win.
 */
export const benchSettingsSchema = z.strictObject({
  profile: z.enum(PROFILE_KINDS).default('sweep'),
  rate: positive.optional(),
  concurrency: z.coerce.number().int().min(1).optional(),
  maxConcurrency: z.coerce.number().int().min(1).default(512),
  sweepSize: z.coerce.number().int().min(2).default(10),
  maxSeconds: positive.optional(),
  maxRequests: z.coerce.number().int().min(1).optional(),
  warmup: z.coerce.number().min(0).default(0),
  cooldown: z.coerce.number().min(0).default(0),
  seed: z.coerce.number().int().default(42),
  data: z.string().default('prompt_tokens=256,output_tokens=128'),
  endpoint: z.enum(['chat', 'completions']).default('chat'),
})
export type BenchSettings = z.output<typeof benchSettingsSchema>

/** Merges a workload file (if any) under the flags given on the command line, and validates the result. */
export function resolveSettings(flags: Record<string, unknown>, workloadFile: string | undefined): BenchSettings {
  let fromFile: Record<string, unknown> = {}
  if (workloadFile !== undefined) {
    const parsed: unknown = parseYaml(readFileSync(workloadFile, 'utf8'))
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${workloadFile}: expected a mapping of bench settings`)
    fromFile = parsed as Record<string, unknown>
  }
  const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined))
  const result = benchSettingsSchema.safeParse({ ...fromFile, ...defined })
  if (!result.success) {
    const issue = result.error.issues[0]!
    const key = String(issue.path[0] ?? '')
    const source = workloadFile !== undefined && key in fromFile && !(key in defined) ? `${workloadFile}: ` : ''
    throw new Error(`${source}${issue.path.join('.') || 'settings'}: ${issue.message}`)
  }
  return result.data
}
