import { describe, expect, it } from 'vitest'
import { TextGenerator, type GenerationRequest } from './text-generator.js'
import { loadTokenizer } from './tokenizer.js'

const tokenizer = await loadTokenizer('Qwen/Qwen3-0.6B')
const base: GenerationRequest = { maxTokens: 50, maxTokensSet: true, ignoreEos: false, stop: [], echoText: '' }

describe('TextGenerator', () => {
  it('produces exactly max tokens of real text with ignore_eos', () => {
    const out = new TextGenerator(tokenizer, 'random', 1).generate({ ...base, ignoreEos: true, maxTokens: 37 })
    expect(out.tokenIds).toHaveLength(37)
    expect(out.finishReason).toBe('length')
    expect(tokenizer.encode(out.pieces.join(''))).toEqual(out.tokenIds)
  })

  it('is deterministic for a seed and varies without one', () => {
    const a = new TextGenerator(tokenizer, 'random', 7)
    const b = new TextGenerator(tokenizer, 'random', 7)
    const first = a.generate(base)
    expect(b.generate(base)).toEqual(first)
    const outputs = Array.from({ length: 20 }, () => a.generate(base).tokenIds.length)
    expect(new Set(outputs).size).toBeGreaterThan(3)
  })

  it('a stopped answer ends a sentence with the EOS token, within max tokens', () => {
    const gen = new TextGenerator(tokenizer, 'random', 3)
    for (let i = 0; i < 50; i++) {
      const out = gen.generate(base)
      expect(out.tokenIds.length).toBeLessThanOrEqual(50)
      if (out.finishReason === 'stop') {
        expect(out.tokenIds.at(-1)).toBe(tokenizer.eosTokenId)
        expect(out.pieces.join('')).toMatch(/^\S/)
      } else {
        expect(out.tokenIds).toHaveLength(50)
      }
    }
  })

  it('echo mode returns the text, multi-byte characters included', () => {
    const out = new TextGenerator(tokenizer, 'echo', 0).generate({ ...base, echoText: 'naïve café 日本語' })
    expect(out.pieces.join('')).toBe('naïve café 日本語')
    expect(out.finishReason).toBe('stop')
  })

  it('cuts at the first stop string and reports it', () => {
    const out = new TextGenerator(tokenizer, 'echo', 0).generate({ ...base, echoText: 'one two three four', stop: ['three', 'two'] })
    expect(out.pieces.join('')).toBe('one ')
    expect(out.stopReason).toBe('two')
    expect(out.finishReason).toBe('stop')
  })
})
