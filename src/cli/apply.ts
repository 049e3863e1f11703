import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { expandConfigPaths } from '../config/config-paths.js'
import type { ApplyRequest } from '../runtime/admin-server.js'
import { resolveAdmin } from './admin-client.js'

export function registerApplyCommand(program: Command): void {
  program
    .command('apply')
    .description('replace the running stack\'s configuration with these files, without dropping traffic (invalid config is refused, the old one keeps serving)')
    .requiredOption('-f, --file <FILE_OR_DIR...>', 'stack YAML files or directories')
    .option('--admin <URL>', 'admin API of the running stack (default: from the state dir)')
    .option('--state-dir <DIR>', 'state dir of the running `maitred up`')
    .action(async (opts: { file: string[]; admin?: string; stateDir?: string }) => {
      const admin = await resolveAdmin(opts)
      const body: ApplyRequest = {
        documents: await Promise.all((await expandConfigPaths(opts.file)).map(async (file) => ({ file, text: await readFile(file, 'utf8') }))),
      }
      const res = await fetch(`${admin}/api/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      const answer = (await res.json()) as { message?: string; error?: { message: string } }
      if (res.ok) process.stdout.write(`${answer.message}\n`)
      else {
        process.stderr.write(`${answer.error?.message ?? `apply failed with HTTP ${res.status}`}\n`)
        process.exitCode = 1
      }
    })
}
