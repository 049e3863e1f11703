import { hashBlock, rootHash, type BlockHash } from './block-hash.js'
import type { Clock, TimerHandle } from './clock.js'
import type { StepTimeModel, StepWork } from './hardware-profile.js'
import { KvBlockManager, type KvSequence } from './kv-block-manager.js'
import { SeededRandom } from './random.js'

// vLLM V1's engine core as a discrete-event simulation: one step at a time, each step's duration given by the timing model
// for the batch it runs. The scheduler follows vLLM's: running requests first (decode or the next prefill chunk), preempting
// the newest running request when KV blocks run out; then waiting requests in FIFO order while max-num-seqs and the
// max-num-batched-tokens budget allow, with automatic prefix caching deciding how much of each prompt is already computed.

export type FinishReason = 'stop' | 'length' | 'abort'

export interface EngineConfig {
  maxNumSeqs: number
  maxNumBatchedTokens: number
  maxWaitingQueueLength: number
  blockSize: number
  numGpuBlocks: number
  enablePrefixCaching: boolean
  maxLoras: number
  /** Relative standard deviation of step times (0 = deterministic). */
  jitter: number
  seed: number
  /** Root of the block-hash chain (vLLM PYTHONHASHSEED). Default: `seed` as a string. */
  hashSeed?: string
}

export interface EngineRequestInit {
  id: string
  promptTokenIds: readonly number[]
  /** The exact tokens the request will generate (decided up front by the text generator); at least one. */
  outputTokenIds: readonly number[]
  /** Why the request ends once its outputs are generated: a stop (EOS / stop string) or the length limit. */
  finishReason: 'stop' | 'length'
  loraName?: string | null
  /** P/D decode side: the prompt's KV is pulled from a prefill pod instead of being computed here. */
  remotePrefill?: boolean
}

export interface EngineListener {
  /** `count` new tokens were generated at simulated time `now` (always 1 per step today). */
  onTokens(req: EngineRequest, count: number): void
  onFinish(req: EngineRequest, reason: FinishReason): void
}

export interface EngineObserver {
  tokenGenerated?(req: EngineRequest, now: number, previous: number | null): void
  requestFinished?(req: EngineRequest, reason: FinishReason): void
  stepCompleted?(numTokens: number): void
}

type RequestState = 'waiting' | 'transferring' | 'running' | 'finished'

export class EngineRequest implements KvSequence {
  readonly id: string
  readonly loraName: string | null
  readonly remotePrefill: boolean
  /** Why the request ends once its outputs are generated (EngineRequestInit.finishReason). */
  readonly endReason: 'stop' | 'length'
  readonly numPromptTokens: number
  readonly numOutputTokens: number
  /**
   * Prompt and output ids, for block hashes. A typed array, and the init's arrays are not kept: a request lives ≈ 26 s under
   * load, so everything it holds on the JS heap is copied by two scavenges and then promoted.
   */
  readonly tokenIds: Uint32Array
  blocks: number[] = []
  numCachedBlocks = 0
  readonly blockHashes: BlockHash[] = []
  state: RequestState = 'waiting'
  /** Prompt + generated tokens so far. */
  numTokens: number
  numComputedTokens = 0
  numGenerated = 0
  /** Prompt tokens found in the prefix cache when the request was first scheduled (usage.prompt_tokens_details.cached_tokens). */
  numCachedTokens = 0
  numPreemptions = 0
  readonly arrivalMs: number
  firstScheduledMs: number | null = null
  firstTokenMs: number | null = null
  lastTokenMs: number | null = null
  finishedMs: number | null = null
  finishReason: FinishReason | null = null
  /** For a remote-prefill request: whether its KV has arrived. */
  kvReady = false

  constructor(
    init: EngineRequestInit,
    readonly listener: EngineListener,
    now: number,
  ) {
    this.id = init.id
    this.loraName = init.loraName ?? null
    this.remotePrefill = init.remotePrefill === true
    this.endReason = init.finishReason
    this.numPromptTokens = init.promptTokenIds.length
    this.numOutputTokens = init.outputTokenIds.length
    this.tokenIds = new Uint32Array(this.numPromptTokens + this.numOutputTokens)
    this.tokenIds.set(init.promptTokenIds)
    this.tokenIds.set(init.outputTokenIds, this.numPromptTokens)
    this.numTokens = this.numPromptTokens
    this.arrivalMs = now
  }
}

export type SubmitResult = { ok: true; request: EngineRequest } | { ok: false; reason: 'queue_full' | 'too_large'; message: string }

interface Scheduled {
  req: EngineRequest
  numNewTokens: number
}

/** Steps run back to back without yielding to the event loop at most this many times while catching up with the clock. */
const MAX_CATCH_UP_STEPS = 64

/**
 * A step's outputs reach their listeners this many sequences at a time, with a yield to the event loop in between, as
 * vLLM's frontend does (VLLM_V1_OUTPUT_PROC_CHUNK_SIZE): each output is a socket write (≈ 30 µs), so a 256-sequence step
 * delivered at once holds the loop ≈ 8 ms while arriving requests wait to be read.
 */
export const OUTPUT_SLICE = 64

export class Engine {
  readonly kv: KvBlockManager
  private readonly running: EngineRequest[] = []
  private waiting: EngineRequest[] = []
  private readonly transferring = new Set<EngineRequest>()
  private readonly transferTimers = new Map<EngineRequest, TimerHandle>()
  private readonly random: SeededRandom
  private readonly root: BlockHash
  private stepTimer: TimerHandle | null = null
  private inFlight: Scheduled[] | null = null
  private stepEndMs = 0
  private closed = false
  /** True while a step's first outputs are delivered: listeners may abort or submit, and must not start a step of their own. */
  private completing = false
  /** The last completed step's sequences left for later slices; those from `nextOutput` on have not reached their listener. */
  private outputs: EngineRequest[] = []
  private nextOutput = 0
  private outputTimer: TimerHandle | null = null

  // Counters read by the metrics surface (tokens, as vLLM counts them).
  prefixCacheQueries = 0
  prefixCacheHits = 0
  numPreemptions = 0
  promptTokens = 0
  generationTokens = 0
  steps = 0
  /** How late the last step completed against the clock: above a few ms the process is overloaded (CPU-bound). */
  clockLagMs = 0

  constructor(
    private readonly config: EngineConfig,
    private readonly clock: Clock,
    private readonly timing: StepTimeModel,
    /** Set after construction by the metrics surface, which itself reads the engine. */
    public observer: EngineObserver = {},
  ) {
    this.kv = new KvBlockManager(config.numGpuBlocks, config.blockSize, config.enablePrefixCaching)
    this.random = new SeededRandom(config.seed ^ 0x5eed)
    this.root = rootHash(config.hashSeed ?? String(config.seed))
  }

  get numRunning(): number {
    return this.running.length
  }
  /** Waiting as vLLM counts it: queued, preempted and waiting for remote KV. */
  get numWaiting(): number {
    return this.waiting.length + this.transferring.size
  }
  get runningLoras(): Set<string> {
    return new Set(this.running.flatMap((r) => (r.loraName === null ? [] : [r.loraName])))
  }
  get waitingLoras(): Set<string> {
    return new Set([...this.waiting, ...this.transferring].flatMap((r) => (r.loraName === null ? [] : [r.loraName])))
  }

  submit(init: EngineRequestInit, listener: EngineListener): SubmitResult {
    if (this.closed) return { ok: false, reason: 'queue_full', message: 'The engine is shutting down.' }
    const total = init.promptTokenIds.length + init.outputTokenIds.length
    if (this.kv.blocksFor(total) > this.kv.usableBlocks) {
      return {
        ok: false,
        reason: 'too_large',
        message: `The request needs ${total} tokens of KV cache but the cache holds only ${this.kv.usableBlocks * this.config.blockSize}.`,
      }
    }
    if (this.waiting.length >= this.config.maxWaitingQueueLength) {
      return { ok: false, reason: 'queue_full', message: 'Failed to enqueue request, waiting requests queue is full' }
    }
    const req = new EngineRequest(init, listener, this.clock.now())
    this.promptTokens += req.numPromptTokens
    this.waiting.push(req)
    this.kick()
    return { ok: true, request: req }
  }

  /** Drops a request wherever it is (client gone): frees its slot and its blocks. */
  abort(req: EngineRequest): void {
    if (req.state === 'finished') return
    this.waiting = this.waiting.filter((r) => r !== req)
    const i = this.running.indexOf(req)
    if (i >= 0) this.running.splice(i, 1)
    this.transferring.delete(req)
    this.transferTimers.get(req)?.cancel()
    this.transferTimers.delete(req)
    this.retire(req, 'abort', this.clock.now())
    req.listener.onFinish(req, 'abort')
    this.kick()
  }

  /** Stops the step loop and aborts everything in flight. */
  close(): void {
    this.closed = true
    this.stepTimer?.cancel()
    this.stepTimer = null
    this.inFlight = null
    this.flushOutputs()
    for (const req of [...this.running, ...this.waiting, ...this.transferring]) this.abort(req)
  }

  private kick(): void {
    if (this.inFlight === null && !this.completing && !this.closed) this.startStep(this.clock.now())
  }

  private startStep(startMs: number): void {
    const batch = this.schedule(startMs)
    if (batch.length === 0) return
    // Causality when the simulation runs behind the wall clock (an overloaded process): a step cannot start before the
    // requests it admits arrived.
    for (const { req } of batch) if (req.arrivalMs > startMs) startMs = req.arrivalMs
    const work: StepWork[] = batch.map((s) => ({ newTokens: s.numNewTokens, contextTokens: s.req.numComputedTokens }))
    let durationMs = this.timing.stepMs(work)
    if (this.config.jitter > 0) durationMs *= Math.min(1.7, Math.max(0.3, 1 + this.config.jitter * this.random.normal()))
    this.inFlight = batch
    this.stepEndMs = startMs + durationMs
    this.stepTimer = this.clock.setTimer(() => this.runDueSteps(), this.stepEndMs - this.clock.now())
  }

  /**
   * Completes the step in flight and starts the next one at the simulated instant the previous ended, so simulated time
   * does not drift when a timer fires late. Steps already due run at once (bounded, so the event loop still breathes).
   */
  private runDueSteps(): void {
    this.clockLagMs = Math.max(0, this.clock.now() - this.stepEndMs)
    this.stepTimer = null
    for (let i = 0; this.inFlight !== null && i < MAX_CATCH_UP_STEPS; i++) {
      // The previous step's last slices go out before this step changes the requests (the step in flight keeps
      // listeners' submits from starting one of their own).
      this.flushOutputs()
      const batch = this.inFlight
      const endMs = this.stepEndMs
      this.inFlight = null
      this.completing = true
      try {
        this.outputs = this.completeStep(batch, endMs)
        this.nextOutput = 0
      } finally {
        this.completing = false
      }
      if (this.closed) return
      this.startStep(endMs)
      if (this.outputs.length > 0) this.outputTimer = this.clock.setTimer(() => this.deliverSlice(), 0)
      if (this.inFlight === null || this.stepEndMs > this.clock.now()) return
      // The next step is already due: cancel its timer and run it now.
      ;(this.stepTimer as TimerHandle | null)?.cancel()
      this.stepTimer = null
    }
    if (this.inFlight !== null && this.stepTimer === null) this.stepTimer = this.clock.setTimer(() => this.runDueSteps(), 0)
  }

  private schedule(nowMs: number): Scheduled[] {
    const scheduled: Scheduled[] = []
    let budget = this.config.maxNumBatchedTokens
    let preempted = false

    for (let i = 0; i < this.running.length && budget > 0; ) {
      const req = this.running[i] as EngineRequest
      const numNew = Math.min(req.numTokens - req.numComputedTokens, budget)
      if (numNew <= 0) {
        i++
        continue
      }
      let victim: EngineRequest | undefined
      while (!this.kv.allocate(req, req.numComputedTokens + numNew)) {
        // Out of blocks: preempt the lowest-priority (most recently admitted) running request, as vLLM does.
        victim = this.running.pop()
        if (victim === undefined) break
        this.preempt(victim)
        preempted = true
        if (victim === req) break
      }
      if (victim === req) break
      scheduled.push({ req, numNewTokens: numNew })
      budget -= numNew
      i++
    }

    if (preempted) return scheduled
    const loras = this.runningLoras
    const skipped: EngineRequest[] = []
    while (this.waiting.length > 0 && this.running.length < this.config.maxNumSeqs && budget > 0) {
      const req = this.waiting[0] as EngineRequest
      const lora = req.loraName
      if (lora !== null && !loras.has(lora) && loras.size >= this.config.maxLoras) {
        // vLLM skips a request whose adapter cannot join the batch and keeps its place in the queue.
        skipped.push(this.waiting.shift() as EngineRequest)
        continue
      }
      if (req.remotePrefill && !req.kvReady) {
        if (!this.startTransfer(req, nowMs)) break
        this.waiting.shift()
        continue
      }
      let cachedPrefix: number[] = []
      let computed = req.numComputedTokens
      const lookUp = req.blocks.length === 0
      if (lookUp) {
        this.extendHashes(req, Math.floor(req.numTokens / this.config.blockSize))
        cachedPrefix = this.kv.findCachedPrefix(req.blockHashes, req.numTokens)
        computed = cachedPrefix.length * this.config.blockSize
      }
      const numNew = Math.min(req.numTokens - computed, budget)
      if (!this.kv.allocate(req, computed + numNew, cachedPrefix)) break
      this.waiting.shift()
      if (lookUp && this.config.enablePrefixCaching) {
        this.prefixCacheQueries += req.numTokens
        this.prefixCacheHits += computed
      }
      req.numComputedTokens = computed
      if (req.firstScheduledMs === null) {
        req.firstScheduledMs = Math.max(nowMs, req.arrivalMs)
        req.numCachedTokens = computed
      }
      req.state = 'running'
      this.running.push(req)
      if (lora !== null) loras.add(lora)
      scheduled.push({ req, numNewTokens: numNew })
      budget -= numNew
    }
    if (skipped.length > 0) this.waiting = [...skipped, ...this.waiting]
    return scheduled
  }

  /** P/D decode side: take blocks for the whole prompt (reusing local cache) and pull the rest of the KV over the wire. */
  private startTransfer(req: EngineRequest, nowMs: number): boolean {
    this.extendHashes(req, Math.floor(req.numTokens / this.config.blockSize))
    const cachedPrefix = this.kv.findCachedPrefix(req.blockHashes, req.numTokens)
    const cachedTokens = cachedPrefix.length * this.config.blockSize
    if (!this.kv.allocate(req, req.numTokens, cachedPrefix)) return false
    if (this.config.enablePrefixCaching) {
      this.prefixCacheQueries += req.numTokens
      this.prefixCacheHits += cachedTokens
    }
    req.numCachedTokens = cachedTokens
    req.firstScheduledMs = Math.max(nowMs, req.arrivalMs)
    req.state = 'transferring'
    this.transferring.add(req)
    const doneAt = req.firstScheduledMs + this.timing.kvTransferMs(req.numTokens - cachedTokens)
    this.transferTimers.set(
      req,
      this.clock.setTimer(() => {
        this.transferTimers.delete(req)
        this.transferring.delete(req)
        // vLLM recomputes the last prompt token locally to get the logits for the first output token.
        req.kvReady = true
        req.numComputedTokens = req.numTokens - 1
        req.state = 'waiting'
        this.waiting.unshift(req)
        this.kick()
      }, doneAt - this.clock.now()),
    )
    return true
  }

  private preempt(req: EngineRequest): void {
    this.kv.release(req)
    req.numComputedTokens = 0
    req.numPreemptions++
    req.state = 'waiting'
    req.kvReady = false
    this.numPreemptions++
    this.waiting.unshift(req)
  }

  /**
   * Applies a step's results to its requests and hands the first OUTPUT_SLICE new tokens to their listeners; returns the
   * sequences whose token is left for later slices, in delivery order.
   */
  private completeStep(batch: Scheduled[], nowMs: number): EngineRequest[] {
    this.steps++
    let stepTokens = 0
    let delivered = 0
    const later: EngineRequest[] = []
    // Newly admitted sequences sit at the end of the batch: deliver theirs first, so writing hundreds of decode chunks does
    // not delay first tokens (all of a step's tokens share one simulated instant; only the wall-clock order changes).
    for (let b = batch.length - 1; b >= 0; b--) {
      const { req, numNewTokens } = batch[b] as Scheduled
      if (req.state !== 'running') continue
      stepTokens += numNewTokens
      req.numComputedTokens += numNewTokens
      this.extendHashes(req, Math.floor(req.numComputedTokens / this.config.blockSize))
      this.kv.cacheFullBlocks(req, req.blockHashes, req.numComputedTokens)
      if (req.numComputedTokens < req.numTokens) continue // a prefill chunk with more to come
      // Every token is computed: the step sampled the next one.
      const previous = req.lastTokenMs
      req.numGenerated++
      req.numTokens++
      this.generationTokens++
      req.lastTokenMs = nowMs
      if (req.firstTokenMs === null) req.firstTokenMs = nowMs
      this.observer.tokenGenerated?.(req, nowMs, previous)
      if (req.numGenerated >= req.numOutputTokens) {
        this.running.splice(this.running.indexOf(req), 1)
        this.retire(req, req.endReason, nowMs)
      }
      if (delivered++ < OUTPUT_SLICE) this.notify(req)
      else later.push(req)
    }
    this.observer.stepCompleted?.(stepTokens)
    return later
  }

  /** Hands the next OUTPUT_SLICE outputs to their listeners, and the rest after a yield to the event loop. */
  private deliverSlice(): void {
    this.outputTimer = null
    this.deliverUpTo(this.nextOutput + OUTPUT_SLICE)
    if (this.nextOutput < this.outputs.length) this.outputTimer = this.clock.setTimer(() => this.deliverSlice(), 0)
  }

  private flushOutputs(): void {
    this.outputTimer?.cancel()
    this.outputTimer = null
    this.deliverUpTo(this.outputs.length)
  }

  private deliverUpTo(end: number): void {
    const outputs = this.outputs
    while (this.nextOutput < Math.min(end, outputs.length)) this.notify(outputs[this.nextOutput++] as EngineRequest)
  }

  /** Tells a request's listener of the token its last step generated, and of its end if that was its last. */
  private notify(req: EngineRequest): void {
    // Aborted since its step: its listener has already been told.
    if (req.finishReason === 'abort') return
    const reason = req.finishReason
    req.listener.onTokens(req, 1)
    if (reason !== null) req.listener.onFinish(req, reason)
  }

  /** Takes a request out of the engine; its listener hears of it at once for an abort, with its last token otherwise. */
  private retire(req: EngineRequest, reason: FinishReason, nowMs: number): void {
    this.kv.release(req)
    req.state = 'finished'
    req.finishReason = reason
    req.finishedMs = nowMs
    this.observer.requestFinished?.(req, reason)
  }

  /** Computes the chained hashes of the request's first `numBlocks` full blocks (prompt and generated tokens alike). */
  private extendHashes(req: EngineRequest, numBlocks: number): void {
    if (!this.config.enablePrefixCaching) return
    const bs = this.config.blockSize
    const limit = Math.min(numBlocks, Math.floor(req.numTokens / bs))
    const extra = req.loraName
    for (let i = req.blockHashes.length; i < limit; i++) {
      const parent = i === 0 ? this.root : (req.blockHashes[i - 1] as BlockHash)
      req.blockHashes.push(hashBlock(parent, req.tokenIds, i * bs, (i + 1) * bs, extra))
    }
  }
}
