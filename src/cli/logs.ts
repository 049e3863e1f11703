import { fstatSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import { formatLogLine, matchesFilter, parseLogLine, type LogFilter } from '../observability/access-log-line.js'
import { readRunState, stateDir } from './state-file.js'

interface LogsOptions extends LogFilter {
  follow?: boolean
  stateDir?: string
}

export function registerLogsCommand(program: Command): void {
  program
    .command('logs')
    .description("pretty-print the gateway's JSON access log, one line per request (a file, stdin, or the running stack's --access-log file)")
    .argument('[FILE]', "access-log file, or - for stdin (default: stdin when piped, else the running stack's)")
    .option('-f, --follow', 'keep printing requests as they are logged')
    .option('--route <ROUTE>', 'only this HTTPRoute (name or namespace/name)')
    .option('--endpoint <HOST_PORT>', 'only requests served by this endpoint (host:port, or part of it)')
    .option('--status <CODE>', 'only this status (503) or class (5xx)')
    .option('--state-dir <DIR>', 'state dir of the running `maitred up`')
    .action(async (file: string | undefined, opts: LogsOptions) => {
      const filter: LogFilter = { ...(opts.route ? { route: opts.route } : {}), ...(opts.endpoint ? { endpoint: opts.endpoint } : {}), ...(opts.status ? { status: opts.status } : {}) }
      const colour = process.stdout.isTTY === true
      const print = (line: string) => {
        const r = parseLogLine(line)
        if (r && matchesFilter(r, filter)) process.stdout.write(formatLogLine(r, colour) + '\n')
      }
      if (file === '-' || (!file && stdinIsPiped())) {
        for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) print(line)
        return
      }
      await readFileLines(file ?? (await runningStackLog(opts.stateDir)), opts.follow === true, print)
    })
}

/** Stdin is a pipe or a file (not a terminal, and not /dev/null as under a supervisor). */
function stdinIsPiped(): boolean {
  try {
    const s = fstatSync(0)
    return s.isFIFO() || s.isFile()
  } catch {
    return false
  }
}

/** The running stack's access-log file, or an error that says how to get one. */
async function runningStackLog(dir: string | undefined): Promise<string> {
  const state = await readRunState(stateDir(dir))
  if (!state) throw new Error('no running stack found: pass an access-log FILE, pipe one in, or start `maitred up --access-log FILE`')
  if (!state.accessLog || state.accessLog === '-' || state.accessLog === 'off')
    throw new Error(`the running stack writes its access log to ${state.accessLog === 'off' ? 'nowhere (off)' : 'stdout'}: pipe it (\`maitred up | maitred logs\`) or restart it with --access-log FILE`)
  return state.accessLog
}

/** Prints the file's lines; with `follow`, keeps reading what is appended (polling, as `tail -f` does on most filesystems). */
async function readFileLines(path: string, follow: boolean, print: (line: string) => void): Promise<void> {
  const handle = await open(path, 'r')
  const buffer = Buffer.alloc(64 * 1024)
  let position = 0
  let partial = ''
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position)
      if (bytesRead > 0) {
        position += bytesRead
        const lines = (partial + buffer.toString('utf8', 0, bytesRead)).split('\n')
        partial = lines.pop()!
        lines.forEach(print)
        continue
      }
      if (!follow) break
      await new Promise((r) => setTimeout(r, 200))
    }
    if (partial) print(partial)
  } finally {
    await handle.close()
  }
}
