import type { StackStatus } from '../runtime/stack-status.js'
import { readRunState, stateDir } from './state-file.js'

/**
 * The admin API of the running `maitred up`: `--admin URL`, else the address it recorded in its state dir.
 * `alternative` completes the error message with what else the command accepts.
 */
export async function resolveAdmin(opts: { admin?: string; stateDir?: string }, alternative = 'pass --admin URL'): Promise<string> {
  const admin = opts.admin ?? (await readRunState(stateDir(opts.stateDir)))?.admin
  if (!admin) throw new Error(`no running stack found: start one with \`maitred up\` (or ${alternative})`)
  return admin
}

/** GET an admin resource, with an error that names the stack when it cannot be reached. */
export async function getAdminJson<T>(admin: string, path: string): Promise<T> {
  const res = await fetch(`${admin}${path}`).catch((err: Error) => {
    throw new Error(`cannot reach the running stack at ${admin}: ${err.message}`)
  })
  return (await res.json()) as T
}

export const fetchStackStatus = (admin: string) => getAdminJson<StackStatus>(admin, '/api/v1/status')
