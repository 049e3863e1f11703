import { describe, expect, it, vi } from 'vitest'
import { loadTokenizer } from '../../sim/tokenizer.js'
import { nextBoundary, RequestTokens } from './request-tokens.js'

const MODEL = 'Qwen/Qwen3-0.6B'
const WORDS = "the of and to in is that it's for don't as was with be by 123 on not (he) this: are or his from at".split(' ')


async function loaded(model: string, body: Record<string, unknown>): Promise<{ tokens: RequestTokens; ids: number[] }> {
  const tokens = new RequestTokens()
  expect(tokens.tokenIds(model, body)).toBeUndefined() // the tokenizer loads in the background
  await loadTokenizer(model)
  await new Promise((r) => setImmediate(r))
  return { tokens, ids: tokens.tokenIds(model, body)! }
}

describe('RequestTokens', () => {
  it('encodes a long prompt chunk by chunk to exactly the ids of encoding it whole', async () => {
    const words = Array.from({ length: 3000 }, (_, i) => WORDS[(i * 7 + (i % 11)) % WORDS.length]!)
    const long = words.map((w, i) => (i % 23 === 0 ? `${w}  ` : i % 31 === 0 ? `${w}\n` : `${w} `)).join('') + ' Émile? ok.\n\nend'
    const { tokens, ids } = await loaded(MODEL, { model: MODEL, prompt: long })
    const tokenizer = await loadTokenizer(MODEL)
    expect(ids).toEqual(tokenizer.encode(long))
    const other = long.slice(0, 9000) + ' a different ending with words'
    expect(tokens.tokenIds(MODEL, { prompt: other })).toEqual(tokenizer.encode(other))
  })

  it('encodes only what follows a long prefix it has seen (the picker\'s hot path)', async () => {
    const doc = Array.from({ length: 3000 }, (_, i) => WORDS[(i * 5 + (i % 7)) % WORDS.length]!).join(' ')
    const { tokens } = await loaded(MODEL, { model: MODEL, prompt: `${doc} first question?` })
    const tokenizer = await loadTokenizer(MODEL)
    const question = `${doc} second question, about something else?`
    const encode = vi.spyOn(tokenizer, 'encode')
    const ids = tokens.tokenIds(MODEL, { prompt: question })
    const encoded = encode.mock.calls.reduce((n, [text]) => n + text.length, 0)
    encode.mockRestore()
    expect(ids).toEqual(tokenizer.encode(question))
    expect(encoded).toBeGreaterThan(0)
    expect(encoded).toBeLessThan(2 * 512 + 100) // the last chunk or two, not the ~13k-character document
  })

  it('renders chat messages with the chat template first, as the engine does', async () => {
    const messages = [
      { role: 'system', content: 'You are terse. '.repeat(100) },
      { role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'text', text: 'there' }] },
    ]
    const { ids } = await loaded(MODEL, { model: MODEL, messages })
    const tokenizer = await loadTokenizer(MODEL)
    const rendered = tokenizer.applyChatTemplate([messages[0]!, { role: 'user', content: 'Hi\nthere' }] as never, { addGenerationPrompt: true })
    expect(ids).toEqual(tokenizer.encode(rendered))
  })

  it('takes token-id prompts as they are, and has nothing for a body without a prompt', async () => {
    const { tokens } = await loaded('other-model', { prompt: 'x' })
    expect(tokens.tokenIds('other-model', { prompt: [5, 6, 7] })).toEqual([5, 6, 7])
    expect(tokens.tokenIds('other-model', { input: 'x' })).toBeUndefined()
  })

  it('cuts only at a space between two letters', () => {
    expect(nextBoundary('ab  cd ef', 0)).toBe(6)
    expect(nextBoundary('a1 b', 0)).toBe(4)
  })
})
