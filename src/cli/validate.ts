import type { Command } from 'commander'
import { ConfigLoadError, formatConfigError } from '../config/config-error.js'

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check stack files without starting anything; prints every error and exits non-zero if any')
    .requiredOption('-f, --file <FILE_OR_DIR...>', 'stack YAML files or directories')
    .action(async (opts: { file: string[] }) => {
      const [{ loadStackFiles }, { deriveStack }, { routeStatus }] = await Promise.all([
        import('../config/load-stack.js'),
        import('../controller/derive-stack.js'),
        import('../controller/route-status.js'),
      ])
      try {
        const resources = await loadStackFiles(opts.file)
        const stack = deriveStack(resources)
        const warnings = stack.routes.flatMap((r) =>
          routeStatus(r, stack).flatMap((p) =>
            p.conditions.filter((c) => c.status !== 'True').map((c) => `HTTPRoute/${r.metadata.namespace}/${r.metadata.name}: parent ${p.gateway.namespace}/${p.gateway.name}: ${c.type}=False (${c.reason}): ${c.message}`),
          ),
        )
        for (const w of warnings) process.stdout.write(`warning: ${w}\n`)
        const derived = Object.keys(stack.ownerOf).length
        process.stdout.write(`valid: ${resources.length} resources declared, ${derived} derived\n`)
      } catch (err) {
        if (!(err instanceof ConfigLoadError)) throw err
        for (const e of err.errors) process.stderr.write(formatConfigError(e) + '\n')
        process.stderr.write(`${err.errors.length} error${err.errors.length === 1 ? '' : 's'}\n`)
        process.exitCode = 1
      }
    })
}
