import { describe, expect, it } from 'vitest'
import type { ExplainRow } from '../endpoint-picker.js'
import { formatExplainHeader, formatExplainTable } from './explain.js'

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
  it('renders a compact header line', () => {
    expect(formatExplainHeader(rows)).toBe('default: ns/pod-1=1.50, ns/pod-2=5*, ns/pod-3=-decode-filter')
  })
})
