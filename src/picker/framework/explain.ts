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

/** Past this many bytes the header is cut (a line of a large pool would otherwise run past proxies' header limits). */
export const EXPLAIN_HEADER_MAX_BYTES = 4096

/**
 * A one-line summary for the `x-maitred-explain` response header: per profile, each candidate's weighted score per scorer
 * and its total, the picked one first (`*`), then the rest best first, then the ones a filter dropped:
 * `default: ns/pod-2 queue-scorer=2 prefix-cache-scorer=3 total=5*, ns/pod-1 queue-scorer=0 prefix-cache-scorer=1.50
 * total=1.50, ns/pod-3 dropped-by=decode-filter` (profiles separated by `; `). Each profile gets an equal share of
 * EXPLAIN_HEADER_MAX_BYTES; candidates past its share are left out and counted (`, ...+12 more`).
 */
export function formatExplainHeader(rows: readonly ExplainRow[]): string {
  const profiles = new Map<string, ExplainRow[]>()
  for (const r of rows) {
    const list = profiles.get(r.profile) ?? []
    list.push(r)
    profiles.set(r.profile, list)
  }
  const share = Math.floor(EXPLAIN_HEADER_MAX_BYTES / profiles.size) - 2
  return [...profiles].map(([profile, candidates]) => profileLine(profile, candidates.sort(bestFirst), share)).join('; ')
}

function profileLine(profile: string, candidates: readonly ExplainRow[], maxBytes: number): string {
  let line = `${fieldText(profile)}:`
  for (let i = 0; i < candidates.length; i++) {
    const cell = `${i === 0 ? ' ' : ', '}${candidateCell(candidates[i]!)}`
    // Room is kept for the marker unless this is the last candidate.
    const marker = i === candidates.length - 1 ? '' : `, ...+${candidates.length - i} more`
    if (line.length + cell.length + marker.length > maxBytes) return line + `${i === 0 ? ' ' : ', '}...+${candidates.length - i} more`
    line += cell
  }
  return line
}

function candidateCell(r: ExplainRow): string {
  const endpoint = fieldText(r.endpoint)
  if (r.droppedBy !== undefined) return `${endpoint} dropped-by=${fieldText(r.droppedBy)}`
  let cell = endpoint
  for (const s of r.scores) cell += ` ${fieldText(s.scorer)}=${num(s.weighted)}`
  return `${cell} total=${num(r.total)}${r.picked ? '*' : ''}`
}

/** Picked first, then by total, then the dropped ones (stable otherwise). */
function bestFirst(a: ExplainRow, b: ExplainRow): number {
  const rank = (r: ExplainRow) => (r.picked ? 0 : r.droppedBy === undefined ? 1 : 2)
  return rank(a) - rank(b) || (rank(a) === 1 ? b.total - a.total : 0)
}

/**
 * Names come from config (plugin and profile names are free text): anything but visible ASCII would make the header an
 * invalid field value (Node refuses to send it), and the separators `, ; = *` would make the line ambiguous, so both
 * become `_`.
 */
function fieldText(name: string): string {
  return name.replace(/[^\x21-\x7e]|[,;=*]/g, '_')
}
