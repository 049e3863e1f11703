import type { ExplainRow } from '../endpoint-picker.js'

const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2))

/**
 * The explain rows as a text table, one line per candidate per profile (the seed's "Pod 1: 11, Pod 2: 25",
 * with each scorer's `raw×weight=weighted`), for `maitred explain` and logs.
 */
export function formatExplainTable(rows: readonly ExplainRow[]): string {
  const scorers = [...new Set(rows.flatMap((r) => r.scores.map((s) => s.scorer)))]
  const header = ['PROFILE', 'ENDPOINT', ...scorers.map((s) => s.toUpperCase()), 'TOTAL', 'PICKED']
  const lines = rows.map((r) => {
    if (r.droppedBy !== undefined) return [r.profile, r.endpoint, `dropped by ${r.droppedBy}`]
    const byScorer = new Map(r.scores.map((s) => [s.scorer, `${num(s.raw)}×${num(s.weight)}=${num(s.weighted)}`]))
    return [r.profile, r.endpoint, ...scorers.map((s) => byScorer.get(s) ?? '-'), num(r.total), r.picked ? '*' : '']
  })
  // The last cell of a line is not padded, so it does not widen its column (a "dropped by" note spans several).
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (i < l.length - 1 ? l[i]!.length : 0))))
  return [header, ...lines].map((cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n')
}

/**
 * A compact one-line summary for the `x-maitred-explain` response header:
 * `default: ns/pod-2=3.5*, ns/pod-1=1, ns/pod-3=-decode-filter` (profiles separated by `; `).
 */
export function formatExplainHeader(rows: readonly ExplainRow[]): string {
  const profiles = new Map<string, string[]>()
  for (const r of rows) {
    const cell = r.droppedBy !== undefined ? `${r.endpoint}=-${r.droppedBy}` : `${r.endpoint}=${num(r.total)}${r.picked ? '*' : ''}`
    const list = profiles.get(r.profile) ?? []
    list.push(cell)
    profiles.set(r.profile, list)
  }
  return [...profiles].map(([p, cells]) => `${p}: ${cells.join(', ')}`).join('; ')
}
