import type { SeededRandom } from '../sim/random.js'
import type { SimTokenizer } from '../sim/tokenizer.js'

// Plain English words, as GuideLLM draws its prompts from a book: the model's tokenizer turns them into ≈ one token each.
const WORDS = (
  'the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her ' +
  'she there been one all we their has would when if so no will more can out some them into only its time could who also like ' +
  'then what other than now about over any new may two first after most very way such these even made many must well because ' +
  'back good those through house river morning letter garden window evening family question answer friend country morning'
).split(' ')

const CORPUS_WORDS = 8192

/**
 * Text of an exact number of tokens, counted with the target model's tokenizer (the real Qwen3 one for Qwen3 models): a
 * seeded corpus is tokenized once, and a prompt is the decoded slice of its ids at a random offset.
 */
export class PromptText {
  readonly #ids: number[]

  constructor(
    private readonly tokenizer: SimTokenizer,
    random: SeededRandom,
  ) {
    const words = Array.from({ length: CORPUS_WORDS }, () => WORDS[random.int(WORDS.length)])
    this.#ids = tokenizer.encode(` ${words.join(' ')}`)
  }

  /** `tokens` tokens of corpus text starting at a random place (wrapping around). */
  text(tokens: number, random: SeededRandom): string {
    if (tokens <= 0) return ''
    const ids: number[] = []
    let at = random.int(this.#ids.length)
    while (ids.length < tokens) {
      ids.push(this.#ids[at]!)
      at = (at + 1) % this.#ids.length
    }
    return this.tokenizer.decode(ids)
  }

  /**
   * A prompt of `tokens` tokens that starts with a marker unique to `serial`, so no two prompts share a prefix by
   * accident (GuideLLM does the same, PR #287).
   */
  uniqueText(serial: number, tokens: number, random: SeededRandom): string {
    const marker = `${serial}:`
    return marker + this.text(Math.max(0, tokens - this.count(marker)), random)
  }

  count(text: string): number {
    return this.tokenizer.encode(text).length
  }
}
