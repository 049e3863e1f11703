import { readFile } from 'node:fs/promises'
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { ScaledClock, type Clock } from './clock.js'
import { Engine, type EngineRequest, type FinishReason } from './engine.js'
import { FailureInjector } from './failure-injection.js'
import { KvEventPublisher } from './kv-event-publisher.js'
import type { SimContext } from './generate-handler.js'
import { StepTimeModel, deriveNumGpuBlocks, resolveGpuProfile } from './hardware-profile.js'
import { SimMetrics } from './sim-metrics.js'
import { simOptionsSchema, type SimOptions } from './sim-options.js'
import { createSimRequestHandler } from './sim-server.js'
import { TextGenerator } from './text-generator.js'
import { loadTokenizer } from './tokenizer.js'

/** In-process hooks for benchmarks and tests: the engine's clock, and its own view of each request (simulated ms). */
export interface SimInstrumentation {
  /** Replaces the ScaledClock built from options.timeScale. */
  clock?: Clock
  requestFinished?(req: EngineRequest, reason: FinishReason): void
}

export interface RunningSimulator {
  url: string
  port: number
  /** Where its KV events are published and replayed (with `kvEvents`), wildcards resolved. */
  kvEvents?: { endpoint: string; replayEndpoint?: string }
  close(): Promise<void>
}

/**
 * Starts one simulated vLLM server. Resolves once it listens and its tokenizer is loaded (so the first request pays no load
 * time). Options are validated by simOptionsSchema (a ZodError names the path of each bad field).
 */
export async function startSimulator(input: SimOptions, instrumentation: SimInstrumentation = {}): Promise<RunningSimulator> {
  const options = simOptionsSchema.parse(input)
  if ((options.tlsCertFile === undefined) !== (options.tlsKeyFile === undefined)) {
    throw new Error('simulator options: tlsCertFile and tlsKeyFile go together')
  }
  const gpu = resolveGpuProfile(options.hardware)
  const numGpuBlocks = options.numGpuBlocks ?? deriveNumGpuBlocks(gpu, options.modelShape, options.blockSize)
  const clock = instrumentation.clock ?? new ScaledClock(options.timeScale)
  const engine = new Engine(
    {
      maxNumSeqs: options.maxNumSeqs,
      maxNumBatchedTokens: options.maxNumBatchedTokens,
      maxWaitingQueueLength: options.maxWaitingQueueLength,
      blockSize: options.blockSize,
      numGpuBlocks,
      enablePrefixCaching: options.enablePrefixCaching,
      maxLoras: options.maxLoras,
      jitter: options.jitter,
      seed: options.seed,
      ...(options.hashSeed !== undefined ? { hashSeed: options.hashSeed } : {}),
    },
    clock,
    new StepTimeModel(gpu, options.modelShape),
  )
  const servedModelNames = options.servedModelNames ?? [options.model]
  const metrics = new SimMetrics(engine, {
    modelName: servedModelNames[0] ?? options.model,
    maxModelLen: options.maxModelLen,
    blockSize: options.blockSize,
    numGpuBlocks,
    enablePrefixCaching: options.enablePrefixCaching,
    gpuMemoryUtilization: gpu.gpuMemoryUtilization,
    maxLoras: options.loraModules.length > 0 ? options.maxLoras : null,
  })
  engine.observer = {
    ...metrics.observer,
    requestFinished: (req, reason) => {
      metrics.observer.requestFinished?.(req, reason)
      instrumentation.requestFinished?.(req, reason)
    },
  }
  const tokenizer = await loadTokenizer(options.model)

  let server: Server
  const ctx: SimContext = {
    options,
    servedModelNames,
    loraNames: new Set(options.loraModules.map((l) => l.name)),
    engine,
    tokenizer,
    generator: new TextGenerator(tokenizer, options.mode, options.seed),
    metrics,
    failures: new FailureInjector(options.failureInjectionRate, options.failureTypes, options.seed),
    address: () => ({ host: options.host, port: (server.address() as AddressInfo).port }),
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        const timer = clock.setTimer(resolve, ms)
        signal.addEventListener('abort', () => {
          timer.cancel()
          resolve()
        })
      }),
  }
  const handler = createSimRequestHandler(ctx)
  const tls = options.tlsCertFile !== undefined && options.tlsKeyFile !== undefined
  server = tls
    ? createHttpsServer({ cert: await readFile(options.tlsCertFile as string), key: await readFile(options.tlsKeyFile as string) }, handler)
    : createHttpServer(handler)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    // A deep accept queue: a benchmark or a gateway may open thousands of connections at once.
    server.listen({ port: options.port, host: options.host, backlog: 4096 }, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  const events = options.kvEvents
  const publisher =
    events &&
    (await KvEventPublisher.start(
      { ...events, topic: events.topic ?? `kv@${options.host}:${port}@${options.model}` },
      options.blockSize,
      ['0.0.0.0', '::'].includes(options.host) ? '127.0.0.1' : options.host,
    ).catch((err: unknown) => {
      server.close()
      throw new Error(`simulator options: kvEvents: cannot open ${events.endpoint}: ${(err as Error).message}`)
    }))
  if (publisher) engine.kv.events = publisher
  let closing: Promise<void> | null = null
  return {
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    ...(publisher
      ? { kvEvents: { endpoint: publisher.endpoint, ...(publisher.replayEndpoint ? { replayEndpoint: publisher.replayEndpoint } : {}) } }
      : {}),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        engine.close()
        server.close(() => resolve())
        server.closeAllConnections()
      }).then(() => publisher?.close())
      return closing
    },
  }
}
