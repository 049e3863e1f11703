import { z } from 'zod'
import { validationError, type OpenAIError } from './openai-error.js'

// The request bodies of vLLM's OpenAI server, as far as the simulator acts on them. Unknown fields are accepted and ignored
// (OpenAI clients send many sampling parameters), wrong types of known fields are 400s.

const positiveInt = z.number().int().positive()
const stop = z.union([z.string(), z.array(z.string())]).nullish()

const common = {
  model: z.string().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z
    .looseObject({ include_usage: z.boolean().nullish(), continuous_usage_stats: z.boolean().nullish() })
    .nullish(),
  n: positiveInt.nullish(),
  max_tokens: positiveInt.nullish(),
  stop,
  ignore_eos: z.boolean().nullish(),
  seed: z.number().int().nullish(),
  kv_transfer_params: z.record(z.string(), z.unknown()).nullish(),
}

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() })
const message = z.looseObject({
  role: z.string(),
  content: z.union([z.string(), z.array(contentPart)]).nullish(),
})

export const chatRequestSchema = z.looseObject({
  ...common,
  messages: z.array(message).min(1),
  max_completion_tokens: positiveInt.nullish(),
  tools: z.array(z.unknown()).nullish(),
  add_generation_prompt: z.boolean().nullish(),
  chat_template_kwargs: z.record(z.string(), z.unknown()).nullish(),
})
export type ChatRequest = z.output<typeof chatRequestSchema>

export const completionRequestSchema = z.looseObject({
  ...common,
  prompt: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number().int().nonnegative()).min(1), z.array(z.array(z.number().int().nonnegative()).min(1)).min(1)]),
  echo: z.boolean().nullish(),
})
export type CompletionRequest = z.output<typeof completionRequestSchema>

export const tokenizeRequestSchema = z.looseObject({
  model: z.string().nullish(),
  prompt: z.string().optional(),
  messages: z.array(message).optional(),
  add_generation_prompt: z.boolean().nullish(),
  add_special_tokens: z.boolean().nullish(),
  return_token_strs: z.boolean().nullish(),
})

export const detokenizeRequestSchema = z.looseObject({
  model: z.string().nullish(),
  tokens: z.array(z.number().int().nonnegative()),
})

/** Parses a body or throws vLLM's 400, naming each offending field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body)
  if (result.success) return result.data
  const issues = result.error.issues
  const message = issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'body'}: ${i.message}`).join('; ')
  const first = issues[0]?.path[0]
  throw validationError(message, typeof first === 'string' ? first : null) satisfies OpenAIError
}
