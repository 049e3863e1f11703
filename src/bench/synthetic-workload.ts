import { SeededRandom } from '../sim/random.js'
import type { SimTokenizer } from '../sim/tokenizer.js'
import type { DataSpec } from './data-spec.js'
import { lengthSampler } from './length-sampler.js'
import { PromptText } from './prompt-text.js'
import type { WorkItem, Workload } from './workload.js'

interface Conversation {
  id: number
  group: number
  turn: number
  history: WorkItem['history']
}

/**
 * Synthetic requests after GuideLLM's synthetic_text: prompt and output lengths drawn per request; with `prefix_tokens`,
 * `prefix_count` shared prefixes of that length, each request using one (chosen by popularity, zipf-skewed); with
 * `turns` > 1, conversations whose next turn is sent only once the previous one is answered, with the history.
 */
export class SyntheticWorkload implements Workload {
  readonly description: string
  readonly needsReplies: boolean
  readonly #random: SeededRandom
  readonly #text: PromptText
  readonly #promptTokens: () => number
  readonly #outputTokens: () => number | undefined
  readonly #prefixes: string[]
  readonly #groupWeights: number[]
  /** Conversations whose next turn may be sent. */
  readonly #ready: Conversation[] = []
  #serial = 0
  #conversations = 0

  constructor(
    private readonly spec: DataSpec,
    tokenizer: SimTokenizer,
    seed: number,
  ) {
    this.#random = new SeededRandom(seed)
    this.needsReplies = spec.turns > 1
    this.#text = new PromptText(tokenizer, this.#random)
    this.#promptTokens = lengthSampler(
      { mean: spec.prompt_tokens, stdev: spec.prompt_tokens_stdev, min: spec.prompt_tokens_min, max: spec.prompt_tokens_max },
      this.#random,
    )
    const output = spec.output_tokens
    const outputSampler =
      output === undefined
        ? undefined
        : lengthSampler({ mean: output, stdev: spec.output_tokens_stdev, min: spec.output_tokens_min, max: spec.output_tokens_max }, this.#random)
    this.#outputTokens = () => outputSampler?.()
    this.#prefixes = spec.prefix_tokens > 0 ? Array.from({ length: spec.prefix_count }, (_, g) => this.#text.uniqueText(-1 - g, spec.prefix_tokens, this.#random)) : ['']
    this.#groupWeights = cumulative(this.#prefixes.map((_, k) => 1 / Math.pow(k + 1, spec.prefix_zipf)))
    this.description = `synthetic ${Object.entries(spec)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v}`)
      .join(',')} (tokenizer ${tokenizer.name})`
  }

  next(): WorkItem {
    const conversation = this.#ready.shift() ?? { id: this.#conversations++, group: this.#pickGroup(), turn: 1, history: [] }
    return {
      group: conversation.group,
      conversation: conversation.id,
      turn: conversation.turn,
      prefix: this.#prefixes[conversation.group]!,
      history: conversation.history,
      prompt: this.#text.uniqueText(this.#serial++, this.#promptTokens(), this.#random),
      maxTokens: this.#outputTokens(),
    }
  }

  finished(item: WorkItem, reply: string | undefined): void {
    if (item.turn >= this.spec.turns) return
    this.#ready.push({
      id: item.conversation,
      group: item.group,
      turn: item.turn + 1,
      history: [...item.history, { role: 'user', content: item.prompt }, { role: 'assistant', content: reply ?? '' }],
    })
  }

  #pickGroup(): number {
    const total = this.#groupWeights.at(-1)!
    const x = this.#random.next() * total
    const g = this.#groupWeights.findIndex((w) => x < w)
    return g < 0 ? this.#groupWeights.length - 1 : g
  }
}

function cumulative(weights: number[]): number[] {
  let sum = 0
  return weights.map((w) => (sum += w))
}
