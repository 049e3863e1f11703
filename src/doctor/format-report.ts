import type { Outcome } from './check.js'
import type { DoctorReport } from './run-doctor.js'

const MARK: Record<Outcome, string> = { pass: '✓', fail: '✗', warn: '!', skip: '–' }
const COLOUR: Record<Outcome, number> = { pass: 32, fail: 31, warn: 33, skip: 90 }

/** The checklist: one line per check, its findings under it, and for each failure the symptom, cause and next step. */
export function formatReport(r: DoctorReport, colour: boolean): string {
  const paint = (o: Outcome, s: string) => (colour ? `\x1b[${COLOUR[o]}m${s}\x1b[0m` : s)
  const dim = (s: string) => (colour ? `\x1b[2m${s}\x1b[0m` : s)
  const out: string[] = [`maitred doctor: ${r.target}`, '']
  for (const c of r.checks) {
    out.push(`${paint(c.outcome, MARK[c.outcome])} ${c.title} ${dim(`— ${c.seeds}`)}`)
    for (const f of c.findings) {
      out.push(`    ${paint(f.outcome, MARK[f.outcome])} ${f.subject}: ${f.message}`)
      if (f.outcome === 'fail') out.push(`        symptom: ${c.symptom}`, `        cause:   ${c.cause}`)
      if (f.next && f.outcome !== 'pass') out.push(`        ${paint(f.outcome, 'next:')}    ${f.next}`)
    }
  }
  const count = (o: Outcome) => r.checks.filter((c) => c.outcome === o).length
  out.push('', `${count('pass')} passed, ${count('fail')} failed, ${count('warn')} warnings, ${count('skip')} skipped in ${(r.ms / 1000).toFixed(1)} s`)
  return out.join('\n')
}
