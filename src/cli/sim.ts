import { InvalidArgumentError, type Command } from 'commander'
import { failureTypes } from '../sim/failure-types.js'
import type { SimOptions } from '../sim/sim-options.js'

// `maitred sim`: one simulated vLLM server, with vLLM / llm-d-inference-sim style flags. The runtime passes everything as
// --options-json (the SimOptions of a ModelServer); explicit flags win over it.

interface SimFlags {
  optionsJson?: Record<string, unknown>
  model?: string
  servedModelName?: string[]
  port?: number
  host?: string
  maxNumSeqs?: number
  maxNumBatchedTokens?: number
  maxWaitingQueueLength?: number
  maxModelLen?: number
  blockSize?: number
  numGpuBlocks?: number
  numGpuBlocksOverride?: number
  kvCacheSize?: number
  enablePrefixCaching?: boolean
  timeScale?: number
  seed?: number
  jitter?: number
  role?: string
  mode?: string
  hardware?: string
  loraModules?: { name: string; path: string; baseModelName?: string }[]
  maxLoras?: number
  failureInjectionRate?: number
  failureTypes?: string[]
  slowStartMs?: number
  sslCertfile?: string
  sslKeyfile?: string
  hashSeed?: string
  kvEvents?: boolean
  kvEventsConfig?: Record<string, unknown>
  kvEventsEndpoint?: string
  kvEventsReplayEndpoint?: string
  dataParallelRank?: number
}

const number = (value: string): number => {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('not a number')
  return n
}

const json = (value: string): Record<string, unknown> => {
  try {
    const parsed = JSON.parse(value) as unknown
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object')
    return parsed as Record<string, unknown>
  } catch (err) {
    throw new InvalidArgumentError(`not a JSON object (${(err as Error).message})`)
  }
}

/** vLLM's --lora-modules forms: `name=path` or `{"name": …, "path": …, "base_model_name": …}`. */
const loraModule = (value: string, previous: SimFlags['loraModules'] = []): NonNullable<SimFlags['loraModules']> => {
  if (value.trim().startsWith('{')) {
    const o = json(value)
    if (typeof o.name !== 'string') throw new InvalidArgumentError('a LoRA module needs a "name"')
    const base = typeof o.base_model_name === 'string' ? { baseModelName: o.base_model_name } : {}
    return [...previous, { name: o.name, path: typeof o.path === 'string' ? o.path : '', ...base }]
  }
  const eq = value.indexOf('=')
  if (eq <= 0) throw new InvalidArgumentError('expected name=path or a JSON object')
  return [...previous, { name: value.slice(0, eq), path: value.slice(eq + 1) }]
}

export function registerSimCommand(program: Command): void {
  program
    .command('sim')
    .description('run one simulated vLLM model server (OpenAI API, /metrics) with a T4 timing model')
    .option('--options-json <JSON>', 'all simulator options as JSON (camelCase SimOptions); flags override it', json)
    .option('--model <NAME>', 'model to serve (default Qwen/Qwen3-0.6B)')
    .option('--served-model-name <NAMES...>', 'names the model answers to (default: the model)')
    .option('--port <PORT>', 'port to listen on (default 8000; 0 = any free port)', number)
    .option('--host <HOST>', 'address to listen on (default 127.0.0.1)')
    .option('--max-num-seqs <N>', 'most sequences in a batch (default 256)', number)
    .option('--max-num-batched-tokens <N>', 'token budget of one engine step (default 2048)', number)
    .option('--max-waiting-queue-length <N>', 'waiting queue bound; past it 429 (default 1000)', number)
    .option('--max-model-len <N>', 'context window (default 40960)', number)
    .option('--block-size <N>', 'tokens per KV block: 8, 16, 32, 64 or 128 (default 16)', number)
    .option('--num-gpu-blocks <N>', 'KV cache capacity in blocks (default: derived from the hardware profile)', number)
    .option('--num-gpu-blocks-override <N>', 'vLLM spelling of --num-gpu-blocks', number)
    .option('--kv-cache-size <N>', 'llm-d-inference-sim spelling of --num-gpu-blocks', number)
    .option('--enable-prefix-caching', 'automatic prefix caching (default on)')
    .option('--no-enable-prefix-caching', 'turn automatic prefix caching off')
    .option('--time-scale <N>', 'run N times faster than real time (default 1)', number)
    .option('--seed <N>', 'seed of response text and jitter (default 0)', number)
    .option('--jitter <R>', 'relative standard deviation of step times, 0–0.3 (default 0)', number)
    .option('--role <ROLE>', 'P/D role: prefill, decode or both (default both)')
    .option('--mode <MODE>', 'response text: random or echo (default random)')
    .option('--hardware <PROFILE>', 'GPU profile: nvidia-t4, nvidia-a10g, nvidia-l4, nvidia-h100-sxm (default nvidia-t4)')
    .option('--lora-modules <SPECS...>', 'LoRA adapters: name=path or JSON {"name","path","base_model_name"}', loraModule)
    .option('--max-loras <N>', 'most adapters in one batch (default 1)', number)
    .option('--failure-injection-rate <PERCENT>', 'percentage of requests that fail on purpose (default 0)', number)
    .option('--failure-types <TYPES...>', `kinds of injected failure: ${failureTypes.join(', ')} (default all)`)
    .option('--slow-start-ms <MS>', 'delay of a slow_start failure, simulated ms (default 5000)', number)
    .option('--ssl-certfile <FILE>', 'serve HTTPS with this PEM certificate')
    .option('--ssl-keyfile <FILE>', 'PEM private key for --ssl-certfile')
    .option('--hash-seed <SEED>', "seed of the prefix-cache block hashes (vLLM's PYTHONHASHSEED; default: --seed)")
    .option('--kv-events', 'publish KV-cache events over ZMQ as vLLM does (default endpoint tcp://*:5557)')
    .option('--kv-events-config <JSON>', 'vLLM\'s form: {"enable_kv_cache_events":true,"publisher":"zmq","endpoint":…,"replay_endpoint":…,"topic":…}', json)
    .option('--kv-events-endpoint <ENDPOINT>', 'ZMQ PUB endpoint of the KV events (implies --kv-events)')
    .option('--kv-events-replay-endpoint <ENDPOINT>', 'ZMQ ROUTER endpoint replaying buffered KV event batches')
    .option('--data-parallel-rank <N>', 'data-parallel rank: carried in KV event batches and added to their ports (default 0)', number)
    .action(async (flags: SimFlags) => {
      // Loaded on use, so that other commands start without the simulator and its tokenizer.
      const [{ z }, { startSimulator }] = await Promise.all([import('zod'), import('../sim/start-simulator.js')])
      const simulator = await startSimulator(toOptions(flags)).catch((err: unknown) => {
        throw err instanceof z.ZodError ? new Error(`invalid simulator options:\n${z.prettifyError(err)}`) : err
      })
      process.stdout.write(`maitred sim: serving on ${simulator.url}\n`)
      if (simulator.kvEvents) process.stdout.write(`maitred sim: KV events on ${simulator.kvEvents.endpoint}\n`)
      process.send?.({ type: 'ready', port: simulator.port, url: simulator.url, kvEvents: simulator.kvEvents })
      const stop = () => {
        void simulator.close().then(() => process.exit(0))
      }
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
      // Started by `maitred up` (IPC channel): a replica never outlives its parent, even one killed with SIGKILL.
      process.once('disconnect', stop)
    })
}

export function toOptions(flags: SimFlags): SimOptions {
  const fromFlags: Record<string, unknown> = {
    model: flags.model,
    servedModelNames: flags.servedModelName,
    port: flags.port,
    host: flags.host,
    maxNumSeqs: flags.maxNumSeqs,
    maxNumBatchedTokens: flags.maxNumBatchedTokens,
    maxWaitingQueueLength: flags.maxWaitingQueueLength,
    maxModelLen: flags.maxModelLen,
    blockSize: flags.blockSize,
    numGpuBlocks: flags.numGpuBlocks ?? flags.numGpuBlocksOverride ?? flags.kvCacheSize,
    enablePrefixCaching: flags.enablePrefixCaching,
    timeScale: flags.timeScale,
    seed: flags.seed,
    jitter: flags.jitter,
    role: flags.role,
    mode: flags.mode,
    hardware: flags.hardware,
    loraModules: flags.loraModules,
    maxLoras: flags.maxLoras,
    failureInjectionRate: flags.failureInjectionRate,
    failureTypes: flags.failureTypes,
    slowStartMs: flags.slowStartMs,
    tlsCertFile: flags.sslCertfile,
    tlsKeyFile: flags.sslKeyfile,
    hashSeed: flags.hashSeed,
    kvEvents: kvEventsOptions(flags, flags.optionsJson?.kvEvents),
  }
  const explicit = Object.fromEntries(Object.entries(fromFlags).filter(([, v]) => v !== undefined))
  // Validated by startSimulator's schema, which names any bad field.
  return { ...flags.optionsJson, ...explicit } as SimOptions
}

/** The KV events options from --kv-events-config (vLLM's snake_case JSON) and the single flags, over any from --options-json. */
function kvEventsOptions(flags: SimFlags, fromJson: unknown): Record<string, unknown> | undefined {
  const vllm = flags.kvEventsConfig
  if (vllm !== undefined) {
    if (vllm.enable_kv_cache_events !== true) return undefined
    if (vllm.publisher !== undefined && vllm.publisher !== 'zmq') throw new InvalidArgumentError(`--kv-events-config: publisher "${String(vllm.publisher)}" is not supported (only "zmq")`)
  }
  const fromVllm: Record<string, unknown> = {
    endpoint: vllm?.endpoint,
    replayEndpoint: vllm?.replay_endpoint ?? undefined,
    topic: vllm?.topic === '' ? undefined : vllm?.topic,
    bufferSteps: vllm?.buffer_steps,
  }
  const single: Record<string, unknown> = { endpoint: flags.kvEventsEndpoint, replayEndpoint: flags.kvEventsReplayEndpoint, dataParallelRank: flags.dataParallelRank }
  const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
  const set = { ...defined(fromVllm), ...defined(single) }
  const enabled = flags.kvEvents === true || vllm !== undefined || flags.kvEventsEndpoint !== undefined || flags.kvEventsReplayEndpoint !== undefined
  if (!enabled && fromJson === undefined) return undefined
  return { ...(typeof fromJson === 'object' ? fromJson : {}), ...set }
}
