import type { Command } from 'commander'
import { fetchStackStatus, resolveAdmin } from './admin-client.js'

interface DoctorOptions {
  file?: string[]
  json?: boolean
  apiKey?: string
  admin?: string
  stateDir?: string
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description("check every layer of the running stack (or, with -f, a config before it runs): ✓/✗ per check with the next step; exit 1 on any failure")
    .option('-f, --file <FILE_OR_DIR...>', 'check these stack files instead of the running stack (the checks that need no traffic)')
    .option('--json', 'the report as JSON')
    .option('--api-key <KEY>', 'probe doors that require a key with this one (default $MAITRED_API_KEY)')
    .option('--admin <URL>', 'admin API of the running stack (default: from the state dir)')
    .option('--state-dir <DIR>', 'state dir of the running `maitred up`')
    .action(async (opts: DoctorOptions) => {
      const [{ runLiveDoctor, runStaticDoctor }, { formatReport }, { closeProbes }] = await Promise.all([
        import('../doctor/run-doctor.js'),
        import('../doctor/format-report.js'),
        import('../doctor/http-probe.js'),
      ])
      let report
      if (opts.file?.length) {
        const [{ loadStackFiles }, { deriveStack }, { ConfigLoadError, formatConfigError }] = await Promise.all([
          import('../config/load-stack.js'),
          import('../controller/derive-stack.js'),
          import('../config/config-error.js'),
        ])
        try {
          report = runStaticDoctor(deriveStack(await loadStackFiles(opts.file)), opts.file.join(', '))
        } catch (err) {
          if (!(err instanceof ConfigLoadError)) throw err
          throw new Error(`the config does not load (fix these first, \`maitred validate -f\`):\n${err.errors.map(formatConfigError).join('\n')}`)
        }
      } else {
        const admin = await resolveAdmin(opts)
        report = await runLiveDoctor(admin, await fetchStackStatus(admin), opts.apiKey ?? process.env.MAITRED_API_KEY).finally(closeProbes)
      }
      process.stdout.write((opts.json ? JSON.stringify(report, null, 2) : formatReport(report, process.stdout.isTTY === true)) + '\n')
      if (!report.ok) process.exitCode = 1
    })
}
