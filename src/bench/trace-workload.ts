import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { SeededRandom } from '../sim/random.js'
import type { SimTokenizer } from '../sim/tokenizer.js'
import { PromptText } from './prompt-text.js'
import type { WorkItem, Workload } from './workload.js'

/** One line of a trace: when it was sent (seconds), and either its prompt or its prompt length, and its output length. */
const traceLine = z
  .strictObject({
    timestamp: z.number().min(0),
    prompt: z.string().optional(),
    prompt_tokens: z.number().int().min(1).optional(),
    output_tokens: z.number().int().min(1).optional(),
  })
  .refine((l) => (l.prompt === undefined) !== (l.prompt_tokens === undefined), 'set exactly one of prompt or prompt_tokens')

/**
 * Replays a JSONL trace: in order, each request at its timestamp (relative to the first) under `--profile replay`, or as
 * fast as another profile paces them. Lines with only token counts get synthetic text of that length.
 */
export class TraceWorkload implements Workload {
  readonly description: string
  readonly needsReplies = false
  readonly #items: WorkItem[]
  #next = 0

  constructor(file: string, tokenizer: SimTokenizer, seed: number) {
    const random = new SeededRandom(seed)
    let text: PromptText | undefined
    const lines = readFileSync(file, 'utf8').split('\n')
    const parsed = lines.flatMap((line, i) => {
      if (line.trim() === '') return []
      let json: unknown
      try {
        json = JSON.parse(line)
      } catch {
        throw new Error(`${file}:${i + 1}: not JSON`)
      }
      const result = traceLine.safeParse(json)
      if (!result.success) throw new Error(`${file}:${i + 1}: ${result.error.issues.map((x) => `${x.path.join('.') || 'line'}: ${x.message}`).join('; ')}`)
      return [result.data]
    })
    if (parsed.length === 0) throw new Error(`${file}: no requests`)
    parsed.sort((a, b) => a.timestamp - b.timestamp)
    const start = Math.min(...parsed.map((l) => l.timestamp))
    this.#items = parsed.map((l, i) => ({
      group: 0,
      conversation: i,
      turn: 1,
      prefix: '',
      history: [],
      prompt: l.prompt ?? (text ??= new PromptText(tokenizer, random)).uniqueText(i, l.prompt_tokens!, random),
      maxTokens: l.output_tokens,
      at: (l.timestamp - start) * 1000,
    }))
    this.description = `trace ${file} (${this.#items.length} requests over ${((this.#items.at(-1)!.at ?? 0) / 1000).toFixed(1)} s)`
  }

  next(): WorkItem | undefined {
    return this.#items[this.#next++]
  }

  finished(): void {}
}
