import fs from 'node:fs/promises'
import { type Command, InvalidArgumentError, Option } from 'commander'
import type { Registry } from 'prom-client'
import { parse as parseYaml } from 'yaml'
import type { EndpointRef } from '../picker/endpoint.js'
import type { EndpointPicker } from '../picker/endpoint-picker.js'

// `maitred picker`: the endpoint picker as its own process, served to Envoy/Istio over ext_proc — GIE's standalone mode
// (a fixed endpoint list instead of an InferencePool watch). Flags keep the EPP's names and defaults.

export interface PickerCommandDeps {
  /** Builds the picker from a parsed EndpointPickerConfig (undefined: the built-in default) over the given endpoints. */
  createPicker: (config: unknown, endpoints: EndpointRef[], context: PickerContext) => EndpointPicker | Promise<EndpointPicker>
  /** Stops the command (tests); otherwise SIGINT/SIGTERM do. */
  shutdownSignal?: AbortSignal
  /** Status lines; stdout by default. */
  log?: (line: string) => void
}

export interface PickerContext {
  registry: Registry
  /** `namespace/name` of the pool (`standalone` with --endpoints). */
  poolName: string
  /** InferenceObjective name → priority, from the stack file's objectives for the pool. */
  objectives?: Record<string, number>
}

interface PickerFlags {
  configFile?: string
  configText?: string
  endpoints?: EndpointRef[]
  file?: string[]
  pool?: string
  grpcPort: number
  grpcHealthPort: number
  metricsPort: number
  host: string
  secureServing: boolean
  certPath?: string
  bodyMode: 'FULL_DUPLEX_STREAMED' | 'BUFFERED'
  disableEndpointSubsetFilter?: boolean
  drainTimeout: number
}

const port = (value: string): number => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('not a port number (0-65535)')
  return n
}

/** Go-style boolean flag: `--secure-serving`, `--secure-serving=false`, `--secure-serving true`. */
const boolean = (value: string): boolean => {
  if (['true', '1', 'yes'].includes(value.toLowerCase())) return true
  if (['false', '0', 'no'].includes(value.toLowerCase())) return false
  throw new InvalidArgumentError('expected true or false')
}

const milliseconds = (value: string): number => {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim())
  if (!match) throw new InvalidArgumentError('expected a duration such as 500ms, 30s or 2m')
  const scale = { ms: 1, s: 1_000, m: 60_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm']
  return Number(match[1]) * scale
}

/** `host:port,host:port,[::1]:port` → EndpointRefs named after their address (there are no pods to name them after). */
export function parseEndpointList(value: string): EndpointRef[] {
  const endpoints = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((address) => {
      const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d+)$/.exec(address)
      if (!match || Number(match[2]) < 1 || Number(match[2]) > 65_535) throw new InvalidArgumentError(`"${address}" is not host:port`)
      const name = address.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-|-$/g, '')
      return { id: `default/${name}`, name, namespace: 'default', address, url: `http://${address}`, labels: {} }
    })
  if (endpoints.length === 0) throw new InvalidArgumentError('at least one host:port is needed')
  return endpoints
}

export function registerPickerCommand(program: Command, deps: PickerCommandDeps): void {
  program
    .command('picker')
    .description('run the endpoint picker standalone as an Envoy ext_proc server (GIE standalone mode)')
    .addOption(new Option('--config-file <file>', 'EndpointPickerConfig YAML file').conflicts('configText'))
    .addOption(new Option('--config-text <yaml>', 'EndpointPickerConfig YAML text'))
    .option('--endpoints <list>', 'model servers as host:port,host:port,…', parseEndpointList)
    .addOption(new Option('-f, --file <FILE_OR_DIR...>', 'take the pool (config, endpoints, objectives) from a stack file; needs --pool').conflicts(['endpoints', 'configFile', 'configText']))
    .option('--pool <NAMESPACE/NAME>', 'the InferencePool of the -f stack to serve (its external ModelServers are the endpoints)')
    .option('--grpc-port <port>', 'ext_proc gRPC port', port, 9002)
    .option('--grpc-health-port <port>', 'gRPC health port (liveness, readiness, ext_proc service)', port, 9003)
    .option('--metrics-port <port>', 'Prometheus /metrics port', port, 9090)
    .option('--host <address>', 'listen address (0.0.0.0 in a pod)', '127.0.0.1')
    .option('--secure-serving [bool]', 'serve ext_proc over TLS (GIE default: true)', boolean, true)
    .option('--cert-path <dir>', 'directory with tls.crt and tls.key; a self-signed certificate is generated when absent')
    .addOption(
      new Option('--body-mode <mode>', 'body mode assumed when Envoy does not send protocol_config')
        .choices(['FULL_DUPLEX_STREAMED', 'BUFFERED'])
        .default('FULL_DUPLEX_STREAMED'),
    )
    .option('--disable-endpoint-subset-filter', 'ignore the proxy’s envoy.lb.subset_hint')
    .option('--drain-timeout <duration>', 'how long shutdown lets in-flight requests finish', milliseconds, 5_000)
    .action(async (flags: PickerFlags) => {
      await runPicker(flags, deps)
    })
}

async function runPicker(flags: PickerFlags, deps: PickerCommandDeps): Promise<void> {
  // Loaded on use so that other commands start without gRPC.
  const { startExtProcServer } = await import('../picker/extproc/start-extproc-server.js')
  const log = deps.log ?? ((line: string) => process.stdout.write(`${line}\n`))
  const { config, endpoints, context } = await pickerSource(flags)
  const picker = await deps.createPicker(config, endpoints, context)
  let server
  try {
    server = await startExtProcServer({
      picker,
      grpcPort: flags.grpcPort,
      healthPort: flags.grpcHealthPort,
      metricsPort: flags.metricsPort,
      host: flags.host,
      secureServing: flags.secureServing,
      certPath: flags.certPath,
      bodyMode: flags.bodyMode,
      registry: context.registry,
      disableEndpointSubsetFilter: flags.disableEndpointSubsetFilter,
      drainTimeoutMs: flags.drainTimeout,
      onError: (error) => process.stderr.write(`maitred picker: ${error instanceof Error ? error.message : String(error)}\n`),
    })
  } catch (error) {
    await picker.close()
    throw error
  }
  const tls = flags.secureServing ? (flags.certPath ? `tls from ${flags.certPath}` : 'tls, self-signed') : 'plaintext'
  log(`endpoint picker: ext_proc on ${flags.host}:${server.grpcPort} (${tls}, ${flags.bodyMode}), health on ${flags.host}:${server.healthPort}, metrics on http://${flags.host}:${server.metricsPort}/metrics`)
  log(`${context.poolName === 'standalone' ? '' : `pool ${context.poolName}, `}endpoints: ${endpoints.map((endpoint) => endpoint.address).join(', ')}`)

  await untilShutdown(deps.shutdownSignal)
  log('endpoint picker: shutting down')
  await server.close()
  await picker.close()
}

/** Config, endpoints and objectives: from the flags (GIE standalone), or from one pool of a stack file. */
async function pickerSource(flags: PickerFlags): Promise<{ config: unknown; endpoints: EndpointRef[]; context: PickerContext }> {
  const { Registry } = await import('prom-client')
  const registry = new Registry()
  if (flags.file) {
    if (!flags.pool) throw new Error('-f needs --pool NAMESPACE/NAME')
    const { loadStackPool } = await import('./stack-pool.js')
    const pool = await loadStackPool(flags.file, flags.pool)
    return { config: pool.config, endpoints: pool.endpoints, context: { registry, poolName: pool.pool, ...(pool.objectives ? { objectives: pool.objectives } : {}) } }
  }
  if (!flags.endpoints) throw new Error('give the model servers with --endpoints host:port,… or take a pool from a stack with -f STACK --pool NAME')
  return { config: await readConfig(flags), endpoints: flags.endpoints, context: { registry, poolName: 'standalone' } }
}

async function readConfig(flags: PickerFlags): Promise<unknown> {
  const [source, text] = flags.configFile
    ? [flags.configFile, await fs.readFile(flags.configFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new Error(`--config-file ${flags.configFile}: ${error.code ?? error.message}`)
      })]
    : ['--config-text', flags.configText]
  if (text === undefined) return undefined
  try {
    return parseYaml(text)
  } catch (error) {
    throw new Error(`${source}: not valid YAML: ${(error as Error).message}`)
  }
}

function untilShutdown(signal: AbortSignal | undefined): Promise<void> {
  if (signal) {
    return signal.aborted ? Promise.resolve() : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
  }
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}
