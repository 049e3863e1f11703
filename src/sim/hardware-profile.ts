import { z } from 'zod'

// The timing model of spec/gpu-model.md: a step's time is max(compute, memory) + a fixed overhead, where compute comes from the
// FLOPs of the tokens in the step and memory from the bytes read (weights once per step, plus every scheduled sequence's KV).
// The GPU and the model are separate profiles so another GPU (or model) is one YAML block away.

export const gpuProfileSchema = z.strictObject({
  /** Sustained dense fp16 throughput in TFLOP/s (the datasheet peak is far higher than what a real GEMM sustains). */
  tflops: z.number().positive(),
  /** Achieved memory bandwidth in GB/s (about 80% of the datasheet peak). */
  memoryBandwidthGBps: z.number().positive(),
  /** Usable device memory in GiB. */
  memoryGiB: z.number().positive(),
  /** vLLM's --gpu-memory-utilization: the share of memory vLLM takes for weights, activations and KV cache. */
  gpuMemoryUtilization: z.number().gt(0).max(1).default(0.9),
  /** Memory vLLM keeps for activations and CUDA graphs, in GiB; the rest after weights is KV cache. */
  activationReserveGiB: z.number().nonnegative().default(1.5),
  /** Fixed cost of every engine step (scheduling, sampling, kernel launches), in ms. */
  stepOverheadMs: z.number().nonnegative().default(1.5),
  /** P/D: bandwidth of the KV transfer from a prefill pod (10 GbE over TCP ≈ 1.1 GB/s), and its fixed latency. */
  kvTransferGBps: z.number().positive().default(1.1),
  kvTransferLatencyMs: z.number().nonnegative().default(2),
})
export type GpuProfile = z.output<typeof gpuProfileSchema>

export const modelShapeSchema = z.strictObject({
  /** Parameters touched per token, without the embedding table (the LM head runs only on sampled positions). */
  computeParameters: z.number().positive(),
  /** Bytes of weights read once per step (fp16). */
  weightBytes: z.number().positive(),
  layers: z.number().int().positive(),
  queryHeads: z.number().int().positive(),
  kvHeads: z.number().int().positive(),
  headDim: z.number().int().positive(),
  dtypeBytes: z.number().int().positive().default(2),
})
export type ModelShape = z.output<typeof modelShapeSchema>

/** Datasheet-derived GPU profiles (spec/gpu-model.md); the T4 is the seeds' hardware. */
export const gpuProfiles = {
  'nvidia-t4': { tflops: 28, memoryBandwidthGBps: 250, memoryGiB: 15, gpuMemoryUtilization: 0.9, activationReserveGiB: 1.5, stepOverheadMs: 1.5, kvTransferGBps: 1.1, kvTransferLatencyMs: 2 },
  'nvidia-a10g': { tflops: 70, memoryBandwidthGBps: 480, memoryGiB: 22, gpuMemoryUtilization: 0.9, activationReserveGiB: 1.5, stepOverheadMs: 1.2, kvTransferGBps: 2.5, kvTransferLatencyMs: 2 },
  'nvidia-l4': { tflops: 60, memoryBandwidthGBps: 240, memoryGiB: 22, gpuMemoryUtilization: 0.9, activationReserveGiB: 1.5, stepOverheadMs: 1.2, kvTransferGBps: 2.5, kvTransferLatencyMs: 2 },
  'nvidia-h100-sxm': { tflops: 500, memoryBandwidthGBps: 2700, memoryGiB: 79, gpuMemoryUtilization: 0.9, activationReserveGiB: 3, stepOverheadMs: 0.8, kvTransferGBps: 40, kvTransferLatencyMs: 0.5 },
} as const satisfies Record<string, GpuProfile>
export type GpuProfileName = keyof typeof gpuProfiles

/** Qwen/Qwen3-0.6B from its config.json: 28 layers, hidden 1024, 16 query / 8 KV heads of 128, ≈ 440 M non-embedding params. */
export const qwen3_0_6b: ModelShape = {
  computeParameters: 440e6,
  weightBytes: 1.19e9,
  layers: 28,
  queryHeads: 16,
  kvHeads: 8,
  headDim: 128,
  dtypeBytes: 2,
}

export function resolveGpuProfile(profile: GpuProfileName | GpuProfile): GpuProfile {
  return typeof profile === 'string' ? gpuProfiles[profile] : profile
}

/** K and V for every layer and KV head: 114 688 B (112 KiB) per token for Qwen3-0.6B. */
export function kvBytesPerToken(model: ModelShape): number {
  return 2 * model.layers * model.kvHeads * model.headDim * model.dtypeBytes
}

/** What vLLM's memory profiling would find: (memory × utilization − weights − activations) / bytes per block. T4 → 6 372. */
export function deriveNumGpuBlocks(gpu: GpuProfile, model: ModelShape, blockSize: number): number {
  const gib = 2 ** 30
  const kvBytes = gpu.memoryGiB * gib * gpu.gpuMemoryUtilization - model.weightBytes - gpu.activationReserveGiB * gib
  return Math.max(1, Math.floor(kvBytes / (kvBytesPerToken(model) * blockSize)))
}

/** One sequence's share of a step: `newTokens` computed on top of `contextTokens` already in the KV cache. */
export interface StepWork {
  newTokens: number
  contextTokens: number
}

/** The cost model of one engine step, in simulated milliseconds. */
export class StepTimeModel {
  private readonly flopsPerToken: number
  private readonly attentionFlopsPerPair: number
  private readonly kvBytes: number

  constructor(
    private readonly gpu: GpuProfile,
    private readonly model: ModelShape,
  ) {
    this.flopsPerToken = 2 * model.computeParameters
    // QKᵀ and AV: 2 matmuls × 2 FLOPs × query width, per layer, per (query token, context token) pair.
    this.attentionFlopsPerPair = 4 * model.layers * model.queryHeads * model.headDim
    this.kvBytes = kvBytesPerToken(model)
  }

  stepMs(work: Iterable<StepWork>): number {
    let tokens = 0
    let attentionPairs = 0
    let kvTokensRead = 0
    for (const w of work) {
      tokens += w.newTokens
      // Each new token attends to the context before it and to the new tokens before it (causal).
      attentionPairs += w.newTokens * w.contextTokens + (w.newTokens * (w.newTokens + 1)) / 2
      kvTokensRead += w.contextTokens + w.newTokens
    }
    const computeMs = ((this.flopsPerToken * tokens + this.attentionFlopsPerPair * attentionPairs) / (this.gpu.tflops * 1e12)) * 1e3
    const memoryMs = ((this.model.weightBytes + kvTokensRead * this.kvBytes) / (this.gpu.memoryBandwidthGBps * 1e9)) * 1e3
    return Math.max(computeMs, memoryMs) + this.gpu.stepOverheadMs
  }

  /** P/D: the time to pull `tokens` tokens of KV from the prefill pod. */
  kvTransferMs(tokens: number): number {
    return this.gpu.kvTransferLatencyMs + ((tokens * this.kvBytes) / (this.gpu.kvTransferGBps * 1e9)) * 1e3
  }
}
