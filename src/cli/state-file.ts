import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'

/** Where a running `maitred up` leaves its admin address for `maitred get`: $MAITRED_STATE_DIR, else ~/.maitred. */
export function stateDir(override?: string): string {
  return override ?? process.env.MAITRED_STATE_DIR ?? join(homedir(), '.maitred')
}

export interface RunState {
  pid: number
  admin: string
  /** The live page's URL, unless started with --ui-port off. */
  ui?: string
  /** The keys admin API, and where its token is (never the token). */
  keysAdmin?: { url: string; tokenFile: string }
  startedAt: string
  /** Where the gateway writes its access log (`-` stdout, `off`, or an absolute file path), for `maitred logs`. */
  accessLog?: string
  gateways: { name: string; namespace: string; urls: string[] }[]
}

const file = (dir: string) => join(dir, 'run.json')

/** Written to a temporary file and renamed, so a reader never sees half a file. */
export async function writeRunState(dir: string, state: RunState): Promise<void> {
  await mkdir(dir, { recursive: true })
  const tmp = `${file(dir)}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(state, null, 2))
  await rename(tmp, file(dir))
}

export async function readRunState(dir: string): Promise<RunState | undefined> {
  try {
    return JSON.parse(await readFile(file(dir), 'utf8')) as RunState
  } catch {
    return undefined
  }
}

export async function removeRunState(dir: string): Promise<void> {
  await rm(file(dir), { force: true })
}
