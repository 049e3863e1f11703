import { describe, expect, it } from 'vitest'
import { ManualClock } from './clock.js'
import { Engine, OUTPUT_SLICE, type EngineConfig, type EngineListener, type EngineRequest, type FinishReason } from './engine.js'
import { StepTimeModel, gpuProfiles, qwen3_0_6b } from './hardware-profile.js'

const timing = new StepTimeModel(gpuProfiles['nvidia-t4'], qwen3_0_6b)

function setup(overrides: Partial<EngineConfig> = {}) {
  const clock = new ManualClock()
  const config: EngineConfig = {
    maxNumSeqs: 256,
    maxNumBatchedTokens: 2048,
    maxWaitingQueueLength: 1000,
    blockSize: 16,
    numGpuBlocks: 6372,
    enablePrefixCaching: true,
    maxLoras: 1,
    jitter: 0,
    seed: 0,
    ...overrides,
  }
  const engine = new Engine(config, clock, timing)
  const finished = new Map<string, FinishReason>()
  let nextId = 0
  const submit = (
    prompt: number[],
    outputLen: number,
    extra: { loraName?: string; remotePrefill?: boolean } = {},
    onTokens: EngineListener['onTokens'] = () => {},
  ) => {
    const result = engine.submit(
      { id: `r${nextId++}`, promptTokenIds: prompt, outputTokenIds: Array.from({ length: outputLen }, (_, i) => 1000 + i), finishReason: 'length', ...extra },
      { onTokens, onFinish: (req, reason) => finished.set(req.id, reason) },
    )
    if (!result.ok) throw new Error(result.message)
    return result.request
  }
  return { clock, engine, finished, submit }
}

const tokens = (n: number, offset = 0) => Array.from({ length: n }, (_, i) => offset + i + 1)
const ttft = (r: EngineRequest) => (r.firstTokenMs as number) - r.arrivalMs

describe('Engine', () => {
  it('keeps a compact copy of the token ids, not the arrays it was given (a request outlives several minor GCs)', () => {
    const { engine } = setup()
    const init = { id: 'r', promptTokenIds: tokens(20), outputTokenIds: [7, 8], finishReason: 'stop' as const }
    const result = engine.submit(init, { onTokens: () => {}, onFinish: () => {} })
    if (!result.ok) throw new Error(result.message)
    const held = Object.values(result.request)
    expect(held).not.toContain(init)
    expect(held).not.toContain(init.promptTokenIds)
    expect(held).not.toContain(init.outputTokenIds)
    expect([...result.request.tokenIds]).toEqual([...init.promptTokenIds, 7, 8])
  })

  it('runs a request to completion, one token per step, and frees its blocks', () => {
    const { clock, engine, finished, submit } = setup()
    const req = submit(tokens(100), 10)
    expect(engine.numRunning).toBe(1)
    expect(engine.kv.usage()).toBeGreaterThan(0)
    clock.runAll()
    expect(finished.get(req.id)).toBe('length')
    expect(req.numGenerated).toBe(10)
    expect(engine.steps).toBe(10)
    expect(engine.numRunning).toBe(0)
    expect(engine.kv.usage()).toBe(0)
    // TTFT is one prefill step of 100 tokens; inter-token latency is a single-sequence decode step.
    expect(ttft(req)).toBeCloseTo(timing.stepMs([{ newTokens: 100, contextTokens: 0 }]), 6)
    expect(engine.generationTokens).toBe(10)
    expect(engine.promptTokens).toBe(100)
  })

  it('a prefix hit cuts TTFT by the prefill time of the cached tokens', () => {
    const { clock, engine, submit } = setup()
    const shared = tokens(2000)
    const first = submit([...shared, ...tokens(48, 5000)], 4)
    clock.runAll()
    const second = submit([...shared, ...tokens(48, 9000)], 4)
    clock.runAll()
    // 2000 shared tokens = 125 full blocks, all cached.
    expect(first.numCachedTokens).toBe(0)
    expect(second.numCachedTokens).toBe(2000)
    expect(ttft(second)).toBeCloseTo(timing.stepMs([{ newTokens: 48, contextTokens: 2000 }]), 6)
    expect(ttft(first) - ttft(second)).toBeGreaterThan(50)
    expect(engine.prefixCacheQueries).toBe(4096)
    expect(engine.prefixCacheHits).toBe(2000)
  })

  it('recomputes the last token even when the whole prompt is cached', () => {
    const { clock, submit } = setup()
    submit(tokens(64), 1)
    clock.runAll()
    const again = submit(tokens(64), 1)
    clock.runAll()
    expect(again.numCachedTokens).toBe(48)
  })

  it('does not reuse anything with prefix caching off', () => {
    const { clock, engine, submit } = setup({ enablePrefixCaching: false })
    submit(tokens(512), 1)
    clock.runAll()
    const again = submit(tokens(512), 1)
    clock.runAll()
    expect(again.numCachedTokens).toBe(0)
    expect(engine.prefixCacheQueries).toBe(0)
  })

  it('keeps a FIFO queue bounded by max-num-seqs and refuses past max-waiting-queue-length', () => {
    const { clock, engine, finished, submit } = setup({ maxNumSeqs: 2, maxWaitingQueueLength: 4 })
    // The first request starts a step at once; the others arrive while it runs and wait for the next.
    const reqs = [0, 1, 2, 3, 4].map((i) => submit(tokens(32, i * 100), 5))
    expect(engine.numRunning).toBe(1)
    expect(engine.numWaiting).toBe(4)
    const refused = engine.submit(
      { id: 'x', promptTokenIds: tokens(8), outputTokenIds: [1], finishReason: 'length' },
      { onTokens: () => {}, onFinish: () => {} },
    )
    expect(refused).toMatchObject({ ok: false, reason: 'queue_full' })
    clock.advance(10)
    expect(engine.numRunning).toBe(2)
    expect(engine.numWaiting).toBe(3)
    clock.runAll()
    expect(finished.size).toBe(5)
    // FIFO: the queued ones started in arrival order, after the first two.
    const starts = reqs.map((r) => r.firstScheduledMs as number)
    expect(starts).toEqual([...starts].sort((a, b) => a - b))
    expect(starts[2]).toBeGreaterThan(0)
  })

  it('splits a long prompt into chunks of max-num-batched-tokens', () => {
    const { clock, engine, submit } = setup({ maxNumBatchedTokens: 2048 })
    const req = submit(tokens(5000), 1)
    clock.runAll()
    expect(engine.steps).toBe(3)
    expect(req.numGenerated).toBe(1)
  })

  it('KV usage rises with long prompts and falls after they finish', () => {
    const { clock, engine, submit } = setup({ numGpuBlocks: 1001 })
    submit(tokens(3000), 50)
    submit(tokens(3000, 10_000), 50)
    clock.advance(200)
    const busy = engine.kv.usage()
    expect(busy).toBeGreaterThan(0.35)
    clock.runAll()
    expect(engine.kv.usage()).toBe(0)
  })

  it('preempts when blocks run out and still completes every request', () => {
    // 10 usable blocks = 160 tokens; two requests of 60 + 60 tokens need 8 blocks each at the end.
    const { clock, engine, finished, submit } = setup({ numGpuBlocks: 11 })
    const a = submit(tokens(60), 60)
    const b = submit(tokens(60, 500), 60)
    clock.runAll()
    expect(finished.get(a.id)).toBe('length')
    expect(finished.get(b.id)).toBe('length')
    expect(engine.numPreemptions).toBeGreaterThan(0)
    expect(b.numPreemptions).toBeGreaterThan(0)
    expect(a.numGenerated + b.numGenerated).toBe(120)
    expect(engine.kv.usage()).toBe(0)
  })

  it('refuses a request larger than the whole cache', () => {
    const { engine } = setup({ numGpuBlocks: 11 })
    const r = engine.submit({ id: 'big', promptTokenIds: tokens(200), outputTokenIds: [1], finishReason: 'length' }, { onTokens: () => {}, onFinish: () => {} })
    expect(r).toMatchObject({ ok: false, reason: 'too_large' })
  })

  it('abort frees the slot and the blocks at once', () => {
    const { clock, engine, finished, submit } = setup({ maxNumSeqs: 1 })
    const a = submit(tokens(100), 100)
    const b = submit(tokens(100, 1000), 100)
    clock.advance(20)
    expect(engine.numWaiting).toBe(1)
    engine.abort(a)
    expect(finished.get(a.id)).toBe('abort')
    expect(engine.kv.usage()).toBe(0)
    clock.advance(20)
    expect(engine.numRunning).toBe(1) // b took the slot at the next step
    engine.abort(b)
    expect(engine.numRunning).toBe(0)
    expect(engine.kv.usage()).toBe(0)
    clock.runAll()
    expect(b.numGenerated).toBeLessThan(100)
  })

  it('keeps at most max-loras adapters in a batch', () => {
    const { clock, engine, submit } = setup({ maxLoras: 1 })
    submit(tokens(16), 20, { loraName: 'a' })
    submit(tokens(16, 100), 20, { loraName: 'b' })
    submit(tokens(16, 200), 20, { loraName: 'a' })
    clock.advance(30)
    expect(engine.numRunning).toBe(2)
    expect([...engine.runningLoras]).toEqual(['a'])
    expect([...engine.waitingLoras]).toEqual(['b'])
    clock.runAll()
    expect(engine.numRunning).toBe(0)
  })

  it('a remote-prefill request pays the KV transfer instead of the prefill', () => {
    const { clock, submit } = setup()
    const local = submit(tokens(4000), 2)
    clock.runAll()
    const remote = submit(tokens(4000, 50_000), 2, { remotePrefill: true })
    clock.runAll()
    expect(remote.numGenerated).toBe(2)
    const expected = timing.kvTransferMs(4000) + timing.stepMs([{ newTokens: 1, contextTokens: 3999 }])
    expect(ttft(remote)).toBeCloseTo(expected, 6)
    expect(ttft(remote)).not.toBeCloseTo(ttft(local), 0)
  })

  it('jitter is seeded: the same seed gives the same timings, another seed different ones', () => {
    const run = (seed: number, jitter: number) => {
      const { clock, submit } = setup({ seed, jitter })
      const req = submit(tokens(300), 20)
      clock.runAll()
      return [req.firstTokenMs, req.finishedMs]
    }
    expect(run(1, 0.2)).toEqual(run(1, 0.2))
    expect(run(1, 0.2)).not.toEqual(run(2, 0.2))
    expect(run(1, 0.2)).not.toEqual(run(1, 0))
  })

  describe('a step with more outputs than a slice', () => {
    // 150 requests of two tokens: r0 runs a step alone, the 149 others arrive meanwhile; the next two steps each give all
    // of them a token (the first for r1…r149 and the last for r0, then the last for r1…r149).
    const bigSteps = (onTokens: (req: EngineRequest, delivered: string[]) => void) => {
      const s = setup()
      const delivered: string[] = []
      const listen = (req: EngineRequest) => {
        delivered.push(req.id)
        onTokens(req, delivered)
      }
      const reqs = Array.from({ length: 150 }, (_, i) => s.submit(tokens(8, i * 100), 2, {}, listen))
      return { ...s, delivered, reqs }
    }
    /** The request whose token opens the second slice of a step of r1…r149 (newest first). */
    const secondSliceOpener = `r${149 - OUTPUT_SLICE}`

    it('hands the tokens to the listeners a slice at a time, newest sequences first, the event loop free in between', () => {
      let deliveredAtYield = -1
      const { clock, delivered, reqs } = bigSteps((req, delivered) => {
        // The big step's first token: a timer set now runs at its first yield.
        if (req.id === 'r149' && req.numGenerated === 1) clock.setTimer(() => (deliveredAtYield = delivered.length), 0)
      })
      clock.runAll()
      expect(deliveredAtYield).toBe(1 + OUTPUT_SLICE)
      const newestFirst = reqs.slice(1).map((r) => r.id).reverse()
      expect(delivered).toEqual(['r0', ...newestFirst, 'r0', ...newestFirst])
    })

    it('a listener between slices may abort a request yet to hear its token, and submit one that waits for its turn', () => {
      let late: EngineRequest | undefined
      const { clock, engine, finished, delivered, reqs, submit } = bigSteps((req) => {
        if (req.id !== secondSliceOpener || req.numGenerated !== 1) return
        engine.abort(reqs[1] as EngineRequest)
        late = submit(tokens(8, 50_000), 1)
      })
      clock.runAll()
      expect(finished.get('r1')).toBe('abort')
      expect(delivered).not.toContain('r1')
      for (const r of reqs.slice(2)) {
        expect(finished.get(r.id)).toBe('length')
        expect(delivered.filter((id) => id === r.id)).toHaveLength(2)
      }
      // It arrived as the next step started, and joined the one after rather than starting a step of its own.
      expect(late?.numGenerated).toBe(1)
      expect(late?.firstScheduledMs).toBeGreaterThan(late?.arrivalMs as number)
    })

    it('closed between slices, every request has heard its last token and its end by the time close returns', () => {
      let heardByClose = -1
      const { clock, engine, finished, delivered } = bigSteps((req) => {
        if (req.id !== 'r149' || req.numGenerated !== 2) return
        // Runs at the last step's first yield.
        clock.setTimer(() => {
          engine.close()
          heardByClose = finished.size
        }, 0)
      })
      clock.runAll()
      expect(heardByClose).toBe(150)
      expect([...finished.values()].every((reason) => reason === 'length')).toBe(true)
      expect(delivered).toHaveLength(300)
    })
  })

  it('step time grows with the batch: more sequences, longer inter-token latency', () => {
    const one = timing.stepMs([{ newTokens: 1, contextTokens: 1000 }])
    const many = timing.stepMs(Array.from({ length: 64 }, () => ({ newTokens: 1, contextTokens: 1500 })))
    expect(one).toBeGreaterThan(6)
    expect(one).toBeLessThan(7.5)
    expect(many).toBeGreaterThan(40)
    expect(many).toBeLessThan(60)
  })
})
