import type { Stack } from '../controller/stack.js'
import type { StackStatus } from '../runtime/stack-status.js'
import type { DoctorCheck, Finding, LiveContext, Outcome } from './check.js'
import { DOCTOR_CHECKS } from './checks/index.js'
import { Doors } from './doors.js'

export interface CheckReport extends Omit<DoctorCheck, 'live' | 'static'> {
  /** The worst outcome of its findings. */
  outcome: Outcome
  findings: Finding[]
}

export interface DoctorReport {
  /** `running stack (admin URL)` or the config files. */
  target: string
  mode: 'live' | 'static'
  ok: boolean
  ms: number
  checks: CheckReport[]
}

const SEVERITY: Record<Outcome, number> = { skip: 0, pass: 1, warn: 2, fail: 3 }

function report(check: DoctorCheck, findings: Finding[]): CheckReport {
  const outcome = findings.reduce<Outcome>((worst, f) => (SEVERITY[f.outcome] > SEVERITY[worst] ? f.outcome : worst), 'skip')
  const { id, title, seeds, symptom, cause, fix } = check
  return { id, title, seeds, symptom, cause, fix, outcome, findings }
}

/** A check that throws is a failed check (the doctor itself must not stop at the first surprise). */
const crashed = (err: unknown): Finding[] => [{ outcome: 'fail', subject: 'doctor', message: `the check itself failed: ${(err as Error)?.message ?? String(err)}`, next: 'report this' }]

function finish(target: string, mode: 'live' | 'static', started: number, checks: CheckReport[]): DoctorReport {
  return { target, mode, ok: checks.every((c) => c.outcome !== 'fail'), ms: Math.round(performance.now() - started), checks }
}

/**
 * Every check against a running stack, concurrently: the checks share memoised probes (one chat completion per door), so
 * the run costs about one request per door plus the prefix-cache pair, not one per check.
 */
export async function runLiveDoctor(admin: string, status: StackStatus, apiKey?: string, checks = DOCTOR_CHECKS): Promise<DoctorReport> {
  const started = performance.now()
  const ctx: LiveContext = { admin, status, doors: new Doors(status, apiKey) }
  const reports = await Promise.all(
    checks.filter((c) => c.live).map(async (c) => report(c, await Promise.resolve().then(() => c.live!(ctx)).catch(crashed))),
  )
  return finish(`running stack (admin ${admin})`, 'live', started, reports)
}

/** The checks that can judge a configuration before it runs. */
export function runStaticDoctor(stack: Stack, target: string, checks = DOCTOR_CHECKS): DoctorReport {
  const started = performance.now()
  const reports = checks.filter((c) => c.static).map((c) => {
    try {
      return report(c, c.static!({ stack }))
    } catch (err) {
      return report(c, crashed(err))
    }
  })
  return finish(target, 'static', started, reports)
}
