import { z } from 'zod'
import { failureTypes } from './failure-types.js'
import { gpuProfileSchema, gpuProfiles, modelShapeSchema, qwen3_0_6b, type GpuProfileName } from './hardware-profile.js'

// The simulator's options. camelCase keys of the vLLM / llm-d-inference-sim flags (the CLI maps the kebab-case ones), every key
// optional with the default written beside it. The config module embeds this schema as `spec.simulator` of a ModelServer.

export { failureTypes, type FailureType } from './failure-types.js'

export const loraModuleSchema = z.strictObject({
  name: z.string().min(1),
  path: z.string().default(''),
  /** The model the adapter applies to; defaults to the simulator's model. */
  baseModelName: z.string().optional(),
})

const gpuProfileNames = Object.keys(gpuProfiles) as [GpuProfileName, ...GpuProfileName[]]

/** vLLM's --kv-events-config (publisher "zmq"), camelCase. */
export const kvEventsOptionsSchema = z.strictObject({
  /** Bound when it has `*` (vLLM's rule: also `::`, ipc://, inproc://), connected otherwise. Default `tcp://*:5557`. */
  endpoint: z.string().regex(/^(tcp|ipc|inproc):\/\//, 'a ZMQ endpoint such as tcp://*:5557').default('tcp://*:5557'),
  /** A ROUTER serving replays of buffered batches from a requested sequence. Default: none. */
  replayEndpoint: z.string().regex(/^(tcp|ipc|inproc):\/\//, 'a ZMQ endpoint such as tcp://*:5558').optional(),
  /** Topic frame. Default `kv@<host>:<port>@<model>` (llm-d-inference-sim's), which llm-d's `kv@` filter matches. */
  topic: z.string().optional(),
  /** Batches kept for replay (vLLM buffer_steps). Default 10000. */
  bufferSteps: z.number().int().positive().default(10_000),
  /** Events as named maps instead of positional arrays (llm-d-inference-sim --use-vllm-map-event-format). Default false. */
  mapFormat: z.boolean().default(false),
  /** Data-parallel rank: carried in every batch and added to the endpoint's port. Default 0. */
  dataParallelRank: z.number().int().min(0).default(0),
})

export const simOptionsSchema = z.strictObject({
  /** The base model "loaded" by the server. Default `Qwen/Qwen3-0.6B`. */
  model: z.string().min(1).default('Qwen/Qwen3-0.6B'),
  /** Names the model answers to (vLLM --served-model-name). Default: [model]. */
  servedModelNames: z.array(z.string().min(1)).min(1).optional(),
  /** Listening port. Default 8000; 0 lets the OS choose. */
  port: z.number().int().min(0).max(65535).default(8000),
  /** Listening address. Default 127.0.0.1. */
  host: z.string().default('127.0.0.1'),
  /** Most sequences in the running batch (vLLM --max-num-seqs; its default for GPUs under 70 GB). Default 256. */
  maxNumSeqs: z.number().int().positive().default(256),
  /** Token budget of one engine step (vLLM --max-num-batched-tokens; its online-serving default under 70 GB). Default 2048. */
  maxNumBatchedTokens: z.number().int().positive().default(2048),
  /** Waiting-queue bound; past it a request gets 429 (llm-d-inference-sim's flag). Default 1000. */
  maxWaitingQueueLength: z.number().int().nonnegative().default(1000),
  /** Context window: prompt + max tokens must fit (Qwen3-0.6B's max_position_embeddings). Default 40960. */
  maxModelLen: z.number().int().positive().default(40960),
  /** Tokens per KV block. Default 16. */
  blockSize: z.union([z.literal(8), z.literal(16), z.literal(32), z.literal(64), z.literal(128)]).default(16),
  /** KV cache capacity in blocks (vLLM --num-gpu-blocks-override). Default: derived from the hardware profile (T4: 6 372). */
  numGpuBlocks: z.number().int().min(2).optional(),
  /** Seed of the block-hash chain's root (vLLM's PYTHONHASHSEED, llm-d-inference-sim --hash-seed). Default: `seed` as a string. */
  hashSeed: z.string().optional(),
  /** Publish KV-cache events over ZMQ as vLLM does (--kv-events-config). Default: off. */
  kvEvents: kvEventsOptionsSchema.optional(),
  /** vLLM automatic prefix caching. Default true. */
  enablePrefixCaching: z.boolean().default(true),
  /** Speed-up over real time: 1 is real time, 100 runs 100× faster. Latency metrics are in simulated seconds. */
  timeScale: z.number().positive().default(1),
  /** Seed of the response text and the timing jitter. Default 0. */
  seed: z.number().int().default(0),
  /** Relative standard deviation of each step's time (0 = none); samples are clamped to [0.3, 1.7]× as llm-d-inference-sim does. */
  jitter: z.number().min(0).max(0.3).default(0),
  /** P/D role (llm-d.ai/role). `decode` and `both` honour the `x-prefiller-host-port` header like llm-d's routing sidecar. */
  role: z.enum(['prefill', 'decode', 'both']).default('both'),
  /** `random`: seeded text from a corpus; `echo`: the prompt (completions) or the last message (chat). Default random. */
  mode: z.enum(['random', 'echo']).default('random'),
  /** A GPU profile name or a full profile. Default `nvidia-t4` (the seeds' g4dn.xlarge). */
  hardware: z.union([z.enum(gpuProfileNames), gpuProfileSchema]).default('nvidia-t4'),
  /** The served model's shape for the timing model. Default: Qwen3-0.6B. */
  modelShape: modelShapeSchema.default(qwen3_0_6b),
  /** LoRA adapters served besides the base model (vLLM --lora-modules). Default none. */
  loraModules: z.array(loraModuleSchema).default([]),
  /** Most distinct adapters in one batch (vLLM --max-loras). Default 1. */
  maxLoras: z.number().int().positive().default(1),
  /** Percentage (0–100) of requests that fail on purpose. Default 0 (off). */
  failureInjectionRate: z.number().min(0).max(100).default(0),
  /** Kinds of injected failure, drawn uniformly. Default all. */
  failureTypes: z.array(z.enum(failureTypes)).min(1).default([...failureTypes]),
  /**
   * Fault injection: every POST is read as if its body never arrived (drained and discarded), so requests fail vLLM's
   * validation with 400 "Field required" — the seeds' bug 1, where the gateway's ext_proc body mode swallowed bodies.
   */
  dropRequestBody: z.boolean().default(false),
  /** Extra delay before the first token of a `slow_start` failure, in simulated ms. Default 5000. */
  slowStartMs: z.number().nonnegative().default(5000),
  /** Serve HTTPS with this PEM certificate and key (vLLM --ssl-certfile / --ssl-keyfile). Default: plain HTTP. */
  tlsCertFile: z.string().optional(),
  tlsKeyFile: z.string().optional(),
  /** Version string reported by /version. */
  version: z.string().default('0.11.0'),
})

export type SimOptions = z.input<typeof simOptionsSchema>
export type ResolvedSimOptions = z.output<typeof simOptionsSchema>
