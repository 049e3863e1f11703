import { watch } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { Option, type Command } from 'commander'
import type { StackRuntime } from '../runtime/stack-runtime.js'
import { DEFAULT_STACK_FILE } from './load-config.js'
import type { MaasOptions } from './maas-services.js'
import { removeRunState, stateDir, writeRunState } from './state-file.js'

interface UpOptions extends MaasOptions {
  file?: string[]
  printConfig?: boolean
  adminPort: string
  uiPort: string
  bind: string
  ephemeralPorts?: boolean
  accessLog: string
  stateDir?: string
  timeScale?: string
  watch?: boolean
  drainTimeout: string
}

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description("run a stack: gateways, routes, pickers and model servers (default: the seeds' cluster with simulated GPUs)")
    .option('-f, --file <FILE_OR_DIR...>', 'stack YAML files or directories (multi-document)')
    .option('--print-config', 'print the embedded default stack YAML and exit')
    .option('--admin-port <PORT>', 'admin API port on 127.0.0.1 (maitred get/apply use it)', '9901')
    .option('--ui-port <PORT>', 'live page on 127.0.0.1 (the stack as a picture, live load and routing decisions), or off', '8090')
    .option('--bind <HOST>', 'interface for gateway listeners', '0.0.0.0')
    .option('--ephemeral-ports', 'let the OS choose every listener port (tests, several stacks on one machine)')
    .option('--access-log <DEST>', 'access log: - (stdout), a file path, or off', '-')
    .option('--state-dir <DIR>', 'run state and the local CA (default $MAITRED_STATE_DIR or ~/.maitred)')
    .option('--time-scale <N>', 'run simulated model servers N times faster than real time')
    .option('--watch', 'reload the -f files when they change (invalid changes are refused; the running config keeps serving)')
    .option('--drain-timeout <SECONDS>', 'on SIGTERM, how long in-flight requests and streams may take to finish', '30')
    .option('--key-store <URL>', 'API keys for the MaaS door: sqlite:PATH or postgres://… (default: $MAITRED_KEY_STORE, else keys.db in the state dir)')
    .option('--keys-admin-port <PORT>', 'keys admin API port on 127.0.0.1 (token: $MAITRED_ADMIN_TOKEN, else generated into the state dir)', '9902')
    .option('--ratelimit-store <URL>', 'rate-limit counters: memory (this process) or redis://HOST:PORT (shared by replicas)', 'memory')
    .option('--ratelimit-prefix <PREFIX>', 'prefix of every Redis counter key (stacks sharing one Redis keep apart)', 'maitred:rl:')
    .addOption(new Option('--ratelimit-failure-mode <MODE>', 'when the counter store does not answer: 503, or admit uncounted').choices(['fail-closed', 'fail-open']).default('fail-closed'))
    .addOption(new Option('--ratelimit-headers <MODE>', "rate-limit headers on admitted answers, as Limitador's --rate-limit-headers (429s always carry them)").choices(['none', 'draft-03']).default('none'))
    .action(async (opts: UpOptions) => {
      if (opts.printConfig) {
        process.stdout.write(await readFile(DEFAULT_STACK_FILE, 'utf8'))
        return
      }
      // Loaded here, not at the top: every other command (e.g. `get`) starts without the runtime's modules.
      const [{ deriveStack }, { loadStackOrDefault }, { StackRuntime }, { startAdminServer }, { startLivePageServer }, { openMaasServices }] = await Promise.all([
        import('../controller/derive-stack.js'),
        import('./load-config.js'),
        import('../runtime/stack-runtime.js'),
        import('../runtime/admin-server.js'),
        import('../observability/live-page-server.js'),
        import('./maas-services.js'),
      ])
      const stack = deriveStack(await loadStackOrDefault(opts.file))
      const log = (line: string) => process.stderr.write(`maitred: ${line}\n`)
      const dir = stateDir(opts.stateDir)
      const maas = await openMaasServices(stack, opts, dir, '127.0.0.1', opts.ephemeralPorts === true, log)
      const runtime = await StackRuntime.start(stack, {
        limitStore: maas.limitStore,
        rateLimits: maas.rateLimits,
        ...(maas.keyStore ? { keyStore: maas.keyStore } : {}),
        bindHost: opts.bind,
        accessLog: opts.accessLog,
        log,
        stateDir: dir,
        drainMs: Number(opts.drainTimeout) * 1000,
        ...(opts.ephemeralPorts ? { listenerPort: () => 0 } : {}),
        ...(opts.timeScale ? { simulatorOverrides: { timeScale: Number(opts.timeScale) } } : {}),
      })
      const admin = await startAdminServer(runtime, Number(opts.adminPort)).catch(async (err: Error) => {
        await runtime.close()
        await maas.close()
        throw new Error(`admin API port ${opts.adminPort}: ${err.message} (is another maitred up running? use --admin-port)`)
      })
      const page =
        opts.uiPort === 'off'
          ? undefined
          : await startLivePageServer(runtime, Number(opts.uiPort)).catch(async (err: Error) => {
              await admin.close()
              await runtime.close()
              await maas.close()
              throw new Error(`live page port ${opts.uiPort}: ${err.message} (use --ui-port PORT, or --ui-port off)`)
            })
      const recordState = () =>
        writeRunState(dir, {
          pid: process.pid,
          admin: admin.url,
          ...(page ? { ui: page.url } : {}),
          ...(maas.keysAdmin ? { keysAdmin: maas.keysAdmin } : {}),
          startedAt: new Date().toISOString(),
          accessLog: opts.accessLog === '-' || opts.accessLog === 'off' ? opts.accessLog : resolve(opts.accessLog),
          gateways: runtime.stack.gateways.map((g) => ({
            name: g.metadata.name,
            namespace: g.metadata.namespace,
            urls: runtime.listeners.filter((l) => l.gateway.metadata.name === g.metadata.name && l.gateway.metadata.namespace === g.metadata.namespace).map((l) => l.url),
          })),
        })
      // Watching starts before the stack is announced ready, so a change made right after that is never missed.
      if (opts.watch && opts.file?.length)
        await watchFiles(opts.file, async () => {
          try {
            await runtime.apply(deriveStack(await loadStackOrDefault(opts.file)))
            await recordState()
            log('configuration reloaded')
          } catch (err) {
            log(`configuration refused, the running one keeps serving:\n${(err as Error).message}`)
          }
        })
      await recordState()
      printReady(runtime, admin.url, page?.url, maas.keysAdmin)
      let stopping = false
      const stop = async (signal: string) => {
        if (stopping) return
        stopping = true
        log(`${signal}: no longer accepting; draining ${runtime.inFlight} in-flight requests (up to ${opts.drainTimeout}s)`)
        await admin.close()
        await page?.close()
        await runtime.close()
        await maas.close()
        await removeRunState(dir)
        process.exit(0)
      }
      process.on('SIGINT', () => void stop('SIGINT'))
      process.on('SIGTERM', () => void stop('SIGTERM'))
    })
}

/** Watches stack files (or directories) and calls `onChange` once per burst of changes; resolves once every watch is set. */
async function watchFiles(paths: readonly string[], onChange: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  let running = Promise.resolve()
  for (const p of paths) {
    const target = (await stat(p)).isDirectory() ? p : dirname(p)
    watch(target, () => {
      clearTimeout(timer)
      timer = setTimeout(() => (running = running.then(onChange)), 300)
    })
  }
}

function printReady(rt: StackRuntime, adminUrl: string, pageUrl: string | undefined, keysAdmin: { url: string; tokenFile: string } | undefined): void {
  const out: string[] = ['maitred: stack ready']
  for (const [id, sim] of rt.simulators) out.push(`  ModelServer ${id.padEnd(44)} ${sim.url}  (simulated, pid ${sim.pid})`)
  for (const ms of rt.stack.modelServers.filter((m) => m.spec.external))
    out.push(`  ModelServer ${`${ms.metadata.namespace}/${ms.metadata.name}`.padEnd(44)} ${ms.spec.external!.url}  (external)`)
  for (const p of rt.pickers.values()) out.push(`  Picker      ${p.key.padEnd(44)} pool ${p.deployment.poolName} (config: ${p.deployment.configSource})`)
  for (const l of rt.listeners)
    out.push(`  Gateway     ${`${l.gateway.metadata.namespace}/${l.gateway.metadata.name}`.padEnd(44)} ${l.url}  (listener ${l.listener.name}${l.certificate ? `; certificate: ${l.certificate.source}` : ''})`)
  out.push(`  Admin       ${adminUrl}  (maitred get gateways|routes|pools|endpoints; /metrics)`)
  if (pageUrl) out.push(`  Live page   ${pageUrl}  (the stack as a picture, live load and routing decisions)`)
  if (keysAdmin) out.push(`  Keys admin  ${keysAdmin.url}  (token: ${keysAdmin.tokenFile}; or maitred keys create --tier free)`)
  const first = rt.listeners[0]
  // A route of the first listener's gateway: with several doors, another gateway's route would give a path this one lacks.
  const gw = first?.gateway.metadata
  const route = rt.stack.routes.find((r) => r.spec.parentRefs?.some((p) => p.name === gw?.name && (p.namespace ?? r.metadata.namespace) === gw?.namespace))
  if (first && route) {
    const prefix = route.spec.rules.at(-1)?.matches[0]?.path?.value ?? '/'
    out.push('Try:', `  curl -s ${first.url}${prefix}/v1/models`)
  }
  process.stdout.write(out.join('\n') + '\n')
}
