import { SeededRandom } from './random.js'
import type { SimTokenizer } from './tokenizer.js'

// Decides, when a request is admitted, exactly which tokens it will generate and why it stops, like llm-d-inference-sim's
// `random` and `echo` modes but with real token ids. The engine then only has to pace them.

/** Preset sentences (llm-d-inference-sim answers with sentences like these). ASCII, so every token decodes on its own. */
const CORPUS = [
  'Today is a fine day to serve a model.',
  'The kitchen is busy, but every order gets its turn.',
  'A prefix cache remembers what it has already read.',
  'Continuous batching keeps the GPU fed with work.',
  'Each token arrives after one step of the engine.',
  'The scheduler picks the running requests first, then the waiting ones.',
  'Long prompts are split into chunks so decoding never stalls.',
  'When memory runs out, the newest request steps aside and starts again later.',
  'Routing a request to the replica that has seen its prefix saves time.',
  'I am a simulated model, and this answer is made of real tokens.',
  'The quick brown fox jumps over the lazy dog.',
  'To be or not to be, that is the question.',
]

interface TokenizedText {
  ids: number[]
  pieces: string[]
}

/** A corpus sentence tokenized as the start of an answer and as a continuation (with its leading space). */
interface CorpusSentence {
  first: TokenizedText
  next: TokenizedText
}

export interface GenerationRequest {
  /** Max tokens to generate; undefined = up to the context window. */
  maxTokens: number
  /** Whether the caller set a max (the length distribution differs). */
  maxTokensSet: boolean
  ignoreEos: boolean
  stop: string[]
  /** Text to echo in `echo` mode (the prompt, or the last chat message). */
  echoText: string
  /** Per-request seed (OpenAI `seed`); default: the simulator's sequence. */
  seed?: number | undefined
}

export interface GeneratedOutput {
  tokenIds: number[]
  /** Text each token adds to the output (the EOS token adds nothing; a stop string is cut away). */
  pieces: string[]
  finishReason: 'stop' | 'length'
  /** The stop string that ended the output (vLLM's stop_reason), if any. */
  stopReason: string | null
}

export class TextGenerator {
  private readonly corpus: CorpusSentence[]
  private readonly random: SeededRandom

  constructor(
    private readonly tokenizer: SimTokenizer,
    private readonly mode: 'random' | 'echo',
    seed: number,
  ) {
    const tokenized = (text: string) => {
      const ids = tokenizer.encode(text)
      return { ids, pieces: ids.map((id) => tokenizer.decode([id])) }
    }
    this.corpus = CORPUS.map((sentence) => ({ first: tokenized(sentence), next: tokenized(` ${sentence}`) }))
    this.random = new SeededRandom(seed)
  }

  generate(req: GenerationRequest): GeneratedOutput {
    const random = req.seed === undefined ? this.random : new SeededRandom(req.seed)
    const out = this.mode === 'echo' ? this.echo(req.echoText) : this.randomText(req, random)
    return applyStop(out, req.stop)
  }

  private echo(text: string): GeneratedOutput {
    const ids = this.tokenizer.encode(text)
    if (ids.length === 0) return this.withEos({ tokenIds: [], pieces: [], finishReason: 'stop', stopReason: null })
    return this.withEos({ tokenIds: ids, pieces: incrementalPieces(this.tokenizer, ids), finishReason: 'stop', stopReason: null })
  }

  private randomText(req: GenerationRequest, random: SeededRandom): GeneratedOutput {
    const length = req.ignoreEos ? req.maxTokens : drawLength(req, random)
    // Running to the limit finishes with `length`, cut wherever the limit falls; a shorter answer ends at the end of a
    // sentence, then the EOS token (a completion token that adds no text).
    const toLimit = length >= req.maxTokens
    const budget = toLimit ? length : Math.max(1, length - 1)
    const tokenIds: number[] = []
    const pieces: string[] = []
    while (tokenIds.length < budget) {
      const sentence = this.corpus[random.int(this.corpus.length)] as CorpusSentence
      const s = tokenIds.length === 0 ? sentence.first : sentence.next
      const room = budget - tokenIds.length
      if (!toLimit && tokenIds.length > 0 && s.ids.length > room) break
      const take = Math.min(room, s.ids.length)
      for (let i = 0; i < take; i++) {
        tokenIds.push(s.ids[i] as number)
        pieces.push(s.pieces[i] as string)
      }
    }
    const out: GeneratedOutput = { tokenIds, pieces, finishReason: 'length', stopReason: null }
    return toLimit ? out : this.withEos(out)
  }

  private withEos(out: GeneratedOutput): GeneratedOutput {
    return { ...out, tokenIds: [...out.tokenIds, this.tokenizer.eosTokenId], pieces: [...out.pieces, ''], finishReason: 'stop' }
  }
}

/**
 * llm-d-inference-sim's length distribution: with a max set, six equal-width buckets of [1, max] drawn with probabilities
 * 20/30/20/5/10/15% (the last bucket reaches max, which finishes with `length`); without one, N(40, 20) capped by the window.
 */
function drawLength(req: GenerationRequest, random: SeededRandom): number {
  const max = Math.max(1, req.maxTokens)
  if (!req.maxTokensSet) return Math.min(max, Math.max(1, Math.round(40 + 20 * random.normal())))
  const weights = [0.2, 0.3, 0.2, 0.05, 0.1, 0.15]
  let u = random.next()
  let bucket = 0
  while (bucket < weights.length - 1 && u >= (weights[bucket] as number)) u -= weights[bucket++] as number
  const lo = 1 + Math.floor(((max - 1) * bucket) / 6)
  const hi = bucket === 5 ? max : Math.max(lo, Math.floor(((max - 1) * (bucket + 1)) / 6))
  return lo + random.int(hi - lo + 1)
}

/** Per-token text that is correct for multi-byte characters split across tokens (decode grows until it is complete). */
function incrementalPieces(tokenizer: SimTokenizer, ids: number[]): string[] {
  const pieces: string[] = []
  let start = 0
  for (let i = 0; i < ids.length; i++) {
    const text = tokenizer.decode(ids.slice(start, i + 1))
    if (text.endsWith('\uFFFD') && i < ids.length - 1) {
      pieces.push('')
      continue
    }
    pieces.push(text)
    start = i + 1
  }
  return pieces
}

/** Ends the output at the first stop string (excluded from the text, as vLLM does by default). */
function applyStop(out: GeneratedOutput, stop: string[]): GeneratedOutput {
  if (stop.length === 0) return out
  let text = ''
  for (let i = 0; i < out.pieces.length; i++) {
    const before = text.length
    text += out.pieces[i] as string
    let cut = -1
    let reason: string | null = null
    for (const s of stop) {
      if (s === '') continue
      const at = text.indexOf(s, Math.max(0, before - s.length + 1))
      if (at >= 0 && (cut < 0 || at < cut)) {
        cut = at
        reason = s
      }
    }
    if (cut >= 0) {
      const pieces = out.pieces.slice(0, i + 1)
      pieces[i] = text.slice(before, Math.max(before, cut))
      // A stop string that began in an earlier piece: trim those pieces too.
      let total = before
      for (let j = i - 1; j >= 0 && total > cut; j--) {
        const start = total - (pieces[j] as string).length
        pieces[j] = (pieces[j] as string).slice(0, Math.max(0, cut - start))
        total = start
      }
      return { tokenIds: out.tokenIds.slice(0, i + 1), pieces, finishReason: 'stop', stopReason: reason }
    }
  }
  return out
}
