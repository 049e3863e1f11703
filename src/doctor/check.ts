import type { Stack } from '../controller/stack.js'
import type { StackStatus } from '../runtime/stack-status.js'
import type { Doors } from './doors.js'

/** ✓ pass, ✗ fail, ! warn (worth a look, not a failure), – skip (could not be checked here). */
export type Outcome = 'pass' | 'fail' | 'warn' | 'skip'

/** One line of a check's result: one gateway, route, pool or endpoint. */
export interface Finding {
  outcome: Outcome
  /** What was checked, e.g. `Gateway openshift-ingress/openshift-ai-inference`. */
  subject: string
  message: string
  /** The exact next step (a command, a field to change), for a failure or a warning. */
  next?: string
}

/** What a check sees of a running stack: its status from the admin API and probes through its doors. */
export interface LiveContext {
  admin: string
  status: StackStatus
  doors: Doors
}

/** What a check sees of a stack before it runs: the derived resources. */
export interface StaticContext {
  stack: Stack
}

/**
 * One of the seeds' layer checks. `symptom` is what the user sees when it fails, `cause` what is usually behind it, `fix`
 * the general remedy (a finding's `next` is the specific one). A check runs against a running stack, a config, or both.
 */
export interface DoctorCheck {
  id: string
  title: string
  /** Which of the seeds' checks (and bugs) it automates. */
  seeds: string
  symptom: string
  cause: string
  fix: string
  live?(ctx: LiveContext): Promise<Finding[]> | Finding[]
  static?(ctx: StaticContext): Finding[]
}

export const pass = (subject: string, message: string): Finding => ({ outcome: 'pass', subject, message })
export const fail = (subject: string, message: string, next: string): Finding => ({ outcome: 'fail', subject, message, next })
export const warn = (subject: string, message: string, next?: string): Finding => ({ outcome: 'warn', subject, message, ...(next ? { next } : {}) })
export const skip = (subject: string, message: string): Finding => ({ outcome: 'skip', subject, message })

/** `Kind/namespace/name`, as config errors and `maitred get` name resources. */
export const ref = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`
