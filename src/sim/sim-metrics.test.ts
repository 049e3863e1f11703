import { describe, expect, it } from 'vitest'
import { ManualClock } from './clock.js'
import { Engine } from './engine.js'
import { StepTimeModel, gpuProfiles, qwen3_0_6b } from './hardware-profile.js'
import { SimMetrics } from './sim-metrics.js'

function setup() {
  const clock = new ManualClock()
  const config = { maxNumSeqs: 8, maxNumBatchedTokens: 2048, maxWaitingQueueLength: 8, blockSize: 16, numGpuBlocks: 64, enablePrefixCaching: true, maxLoras: 1, jitter: 0, seed: 0 }
  const engine = new Engine(config, clock, new StepTimeModel(gpuProfiles['nvidia-t4'], qwen3_0_6b))
  const metrics = new SimMetrics(engine, { modelName: 'm', maxModelLen: 1024, blockSize: 16, numGpuBlocks: 64, enablePrefixCaching: true, gpuMemoryUtilization: 0.9, maxLoras: null })
  engine.observer = metrics.observer
  return { clock, engine, metrics }
}

/** The value of one exposition line, by its name and labels as printed. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  if (line === undefined) throw new Error(`no ${series} in:\n${text}`)
  return Number(line.slice(series.length + 1))
}

describe('SimMetrics', () => {
  it('exposes no histogram or request series before the first request, as prom-client would', async () => {
    const text = await setup().metrics.registry.metrics()
    expect(text).toContain('# TYPE vllm:inter_token_latency_seconds histogram')
    expect(text).not.toMatch(/_bucket|_sum|_count|request_success_total\{/)
  })

  it('records every token and the finished request on its model and engine', async () => {
    const { clock, engine, metrics } = setup()
    const submitted = engine.submit(
      { id: 'r', promptTokenIds: [1, 2, 3], outputTokenIds: [7, 8, 9, 10], finishReason: 'length', loraName: null, remotePrefill: false },
      { onTokens: () => {}, onFinish: () => {} },
    )
    if (!submitted.ok) throw new Error(submitted.message)
    clock.runAll()
    const req = submitted.request
    const text = await metrics.registry.metrics()
    const on = '{model_name="m",engine="0"}'
    expect(sample(text, `vllm:time_to_first_token_seconds_count${on}`)).toBe(1)
    expect(sample(text, `vllm:time_to_first_token_seconds_sum${on}`)).toBeCloseTo(((req.firstTokenMs as number) - req.arrivalMs) / 1000, 9)
    for (const perToken of ['vllm:inter_token_latency_seconds', 'vllm:time_per_output_token_seconds']) {
      expect(sample(text, `${perToken}_count${on}`)).toBe(3)
      expect(sample(text, `${perToken}_sum${on}`)).toBeCloseTo(((req.finishedMs as number) - (req.firstTokenMs as number)) / 1000, 9)
      expect(sample(text, `${perToken}_bucket{le="+Inf",model_name="m",engine="0"}`)).toBe(3)
    }
    expect(sample(text, `vllm:e2e_request_latency_seconds_count${on}`)).toBe(1)
    expect(sample(text, `vllm:request_generation_tokens_sum${on}`)).toBe(4)
    expect(sample(text, `vllm:iteration_tokens_total_sum${on}`)).toBe(3 + 3)
    expect(sample(text, 'vllm:request_success_total{model_name="m",engine="0",finished_reason="length"}')).toBe(1)
  })
})
