import { z } from 'zod'

const count = z.coerce.number().int().min(0)
const optionalCount = count.optional()

/**
 * `--data 'prompt_tokens=256,output_tokens=128,…'`: GuideLLM's synthetic_text keys, plus `prefix_zipf` (group popularity:
 * group k is chosen with weight 1/k^s; 0 = uniform) and `turns` (user turns per conversation, chat only).
 */
export const dataSpecSchema = z.strictObject({
  prompt_tokens: z.coerce.number().int().min(1),
  prompt_tokens_stdev: optionalCount,
  prompt_tokens_min: optionalCount,
  prompt_tokens_max: optionalCount,
  output_tokens: z.coerce.number().int().min(1).optional(),
  output_tokens_stdev: optionalCount,
  output_tokens_min: optionalCount,
  output_tokens_max: optionalCount,
  prefix_tokens: count.default(0),
  prefix_count: z.coerce.number().int().min(1).default(1),
  prefix_zipf: z.coerce.number().min(0).default(0),
  turns: z.coerce.number().int().min(1).default(1),
})
export type DataSpec = z.output<typeof dataSpecSchema>

/** Parses `key=value,key=value`; errors name the key. */
export function parseDataSpec(text: string): DataSpec {
  const entries: Record<string, string> = {}
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=')
    if (eq <= 0) throw new Error(`--data: expected key=value, got "${part}"`)
    entries[part.slice(0, eq).trim()] = part.slice(eq + 1).trim()
  }
  const parsed = dataSpecSchema.safeParse(entries)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new Error(`--data: ${issue.path.join('.') || 'value'}: ${issue.message}`)
  }
  return parsed.data
}
