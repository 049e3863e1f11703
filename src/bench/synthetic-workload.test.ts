import { describe, expect, it } from 'vitest'
import { loadTokenizer } from '../sim/tokenizer.js'
import { parseDataSpec } from './data-spec.js'
import { SyntheticWorkload } from './synthetic-workload.js'
import { chatMessages } from './workload.js'

const tokenizer = await loadTokenizer('Qwen/Qwen3-0.6B')
const workload = (data: string, seed = 1) => new SyntheticWorkload(parseDataSpec(data), tokenizer, seed)
const tokens = (text: string) => tokenizer.encode(text).length

describe('SyntheticWorkload', () => {
  it('makes prompts of the asked length, counted with the real Qwen3 tokenizer, each starting differently', () => {
    const w = workload('prompt_tokens=200,output_tokens=64')
    const items = Array.from({ length: 20 }, () => w.next())
    for (const item of items) {
      expect(Math.abs(tokens(item.prompt) - 200)).toBeLessThanOrEqual(2)
      expect(item.maxTokens).toBe(64)
    }
    expect(new Set(items.map((i) => i.prompt.slice(0, 4))).size).toBe(20)
  })

  it('draws lengths from normal(mean, stdev) within [min, max], or uniformly between min and max', () => {
    const normal = workload('prompt_tokens=100,prompt_tokens_stdev=20,prompt_tokens_min=70,prompt_tokens_max=130,output_tokens=50,output_tokens_min=10,output_tokens_max=20')
    const items = Array.from({ length: 200 }, () => normal.next())
    const lengths = items.map((i) => tokens(i.prompt))
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(68)
    expect(Math.max(...lengths)).toBeLessThanOrEqual(132)
    const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length
    expect(mean).toBeGreaterThan(94)
    expect(mean).toBeLessThan(106)
    const outputs = items.map((i) => i.maxTokens!)
    expect(Math.min(...outputs)).toBe(10)
    expect(Math.max(...outputs)).toBe(20)
  })

  it('shares prefixes by group, with zipf-skewed popularity', () => {
    const w = workload('prompt_tokens=20,prefix_tokens=300,prefix_count=8,prefix_zipf=1.5')
    const items = Array.from({ length: 400 }, () => w.next())
    const byGroup = new Map<number, string>()
    for (const i of items) {
      expect(byGroup.get(i.group) ?? i.prefix).toBe(i.prefix)
      byGroup.set(i.group, i.prefix)
    }
    expect(Math.abs(tokens(byGroup.get(0)!) - 300)).toBeLessThanOrEqual(2)
    const counts = Array.from({ length: 8 }, (_, g) => items.filter((i) => i.group === g).length)
    // 1/k^1.5: group 0 is about 2.8× as popular as group 1 and 22× as popular as group 7.
    expect(counts[0]! / counts[1]!).toBeGreaterThan(2)
    expect(counts[0]!).toBeGreaterThan(counts[7]! * 8)
  })

  it('the same seed gives the same workload; another seed another', () => {
    const a = workload('prompt_tokens=50,prefix_tokens=40,prefix_count=3', 5)
    const b = workload('prompt_tokens=50,prefix_tokens=40,prefix_count=3', 5)
    const c = workload('prompt_tokens=50,prefix_tokens=40,prefix_count=3', 6)
    const take = (w: SyntheticWorkload) => Array.from({ length: 10 }, () => w.next())
    const first = take(a)
    expect(take(b)).toEqual(first)
    expect(take(c)).not.toEqual(first)
  })

  it('multi-turn: a conversation’s next turn carries the history, and comes only after the reply', () => {
    const w = workload('prompt_tokens=10,prefix_tokens=20,turns=2')
    const first = w.next()
    const other = w.next()
    expect([first.turn, other.turn, other.conversation]).toEqual([1, 1, 1])
    w.finished(first, 'the reply')
    const second = w.next()
    expect(second).toMatchObject({ conversation: 0, turn: 2, prefix: first.prefix })
    expect(chatMessages(second).map((m) => [m.role, m.content])).toEqual([
      ['system', first.prefix],
      ['user', first.prompt],
      ['assistant', 'the reply'],
      ['user', second.prompt],
    ])
    w.finished(second, 'done')
    expect(w.next().turn).toBe(1) // the conversation has had its turns
  })

  it('rejects unknown or invalid data keys with the key named', () => {
    expect(() => parseDataSpec('prompt_tokens=10,prefix_tokenz=5')).toThrow(/prefix_tokenz|Unrecognized/)
    expect(() => parseDataSpec('output_tokens=10')).toThrow(/prompt_tokens/)
    expect(() => parseDataSpec('prompt_tokens')).toThrow(/key=value/)
  })
})
