import { validateHeaderValue } from 'node:http'
import { describe, expect, it } from 'vitest'
import type { ExplainRow } from '../endpoint-picker.js'
import { EXPLAIN_HEADER_MAX_BYTES, formatExplainHeader, formatExplainTable } from './explain.js'

const rows: ExplainRow[] = [
  { profile: 'default', endpoint: 'ns/pod-1', scores: [{ scorer: 'queue-scorer', raw: 0, weight: 2, weighted: 0 }, { scorer: 'prefix-cache-scorer', raw: 0.5, weight: 3, weighted: 1.5 }], total: 1.5, picked: false },
  { profile: 'default', endpoint: 'ns/pod-2', scores: [{ scorer: 'queue-scorer', raw: 1, weight: 2, weighted: 2 }, { scorer: 'prefix-cache-scorer', raw: 1, weight: 3, weighted: 3 }], total: 5, picked: true },
  { profile: 'default', endpoint: 'ns/pod-3', droppedBy: 'decode-filter', scores: [], total: 0, picked: false },
]

describe('explain formatting', () => {
  it('renders a table with each scorer as raw×weight=weighted', () => {
    expect(formatExplainTable(rows)).toBe(
      [
        'PROFILE  ENDPOINT  QUEUE-SCORER  PREFIX-CACHE-SCORER  TOTAL  PICKED',
        'default  ns/pod-1  0×2=0         0.50×3=1.50          1.50',
        'default  ns/pod-2  1×2=2         1×3=3                5      *',
        'default  ns/pod-3  dropped by decode-filter',
      ].join('\n'),
    )
  })
  it('renders a header line with each candidate\'s weighted score per scorer, the pick first', () => {
    expect(formatExplainHeader(rows)).toBe(
      'default: ns/pod-2 queue-scorer=2 prefix-cache-scorer=3 total=5*, ns/pod-1 queue-scorer=0 prefix-cache-scorer=1.50 total=1.50, ns/pod-3 dropped-by=decode-filter',
    )
  })

  it('separates profiles and orders the rest of a profile best first', () => {
    const row = (profile: string, endpoint: string, total: number, picked = false): ExplainRow => ({ profile, endpoint, scores: [{ scorer: 'q', raw: total, weight: 1, weighted: total }], total, picked })
    const line = formatExplainHeader([row('decode', 'a', 0.25), row('decode', 'b', 1), row('decode', 'c', 0.5, true), row('prefill', 'p', 1, true)])
    expect(line).toBe('decode: c q=0.50 total=0.50*, b q=1 total=1, a q=0.25 total=0.25; prefill: p q=1 total=1*')
  })

  it('stays under 4 KiB for a large pool, keeps the pick and counts what it left out', () => {
    const scores = ['queue-scorer', 'kv-cache-utilization-scorer', 'prefix-cache-scorer'].map((scorer) => ({ scorer, raw: 0.5, weight: 2, weighted: 1 }))
    const pool = (profile: string): ExplainRow[] =>
      Array.from({ length: 512 }, (_, i) => ({ profile, endpoint: `my-first-model/qwen3-0-6b-kserve-${i}`, scores, total: 3, picked: i === 300 }))
    for (const line of [formatExplainHeader(pool('default')), formatExplainHeader([...pool('decode'), ...pool('prefill')])]) {
      expect(Buffer.byteLength(line)).toBeLessThanOrEqual(EXPLAIN_HEADER_MAX_BYTES)
      const profiles = line.split('; ')
      for (const p of profiles) {
        expect(p).toMatch(/^\w+: my-first-model\/qwen3-0-6b-kserve-300 queue-scorer=1 kv-cache-utilization-scorer=1 prefix-cache-scorer=1 total=3\*, /)
        const shown = p.split(', ').length - 1
        expect(p).toMatch(new RegExp(`, \\.\\.\\.\\+${512 - shown} more$`))
      }
    }
    expect(Buffer.byteLength(formatExplainHeader(pool('default')))).toBeGreaterThan(EXPLAIN_HEADER_MAX_BYTES - 200)
  })

  it('is a valid HTTP field value whatever the config names its plugins and profiles', () => {
    const line = formatExplainHeader([
      { profile: 'pré fill\r\n', endpoint: 'ns/a', scores: [{ scorer: 'my scorer,=;*\u0000', raw: 1, weight: 1, weighted: 1 }], total: 1, picked: true },
      { profile: 'pré fill\r\n', endpoint: 'ns/b', droppedBy: 'ünïcode 过滤', scores: [], total: 0, picked: false },
    ])
    expect(() => validateHeaderValue('x-maitred-explain', line)).not.toThrow()
    expect(line).toBe('pr__fill__: ns/a my_scorer_____=1 total=1*, ns/b dropped-by=_n_code___')
  })
})
