import type { ExplainRow } from '../picker/endpoint-picker.js'

/** The compact form of the picker's explain table for a response header: `profile:endpoint=total*` per candidate. */
export function explainHeader(rows: readonly ExplainRow[]): string {
  return rows
    .map((r) => `${r.profile}:${r.endpoint}=${r.droppedBy ? `dropped(${r.droppedBy})` : r.total.toFixed(3)}${r.picked ? '*' : ''}`)
    .join(', ')
}
