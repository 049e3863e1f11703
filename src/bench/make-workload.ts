import { loadTokenizer, type SimTokenizer } from '../sim/tokenizer.js'
import { parseDataSpec } from './data-spec.js'
import { SyntheticWorkload } from './synthetic-workload.js'
import { TraceWorkload } from './trace-workload.js'
import type { Workload } from './workload.js'

/**
 * `--data`: a `.jsonl` file is a trace to replay, anything else a synthetic spec. Prompts are measured with the model's
 * tokenizer (the real Qwen3 one for Qwen3 models, else an estimator of 4 characters per token).
 */
export async function workloadFactory(data: string, model: string, seed: number): Promise<{ make: () => Workload; description: string }> {
  const tokenizer = await loadTokenizer(model)
  const make: () => Workload = data.endsWith('.jsonl') ? () => new TraceWorkload(data, tokenizer, seed) : syntheticFactory(data, tokenizer, seed)
  return { make, description: make().description }
}

/** The spec is parsed once, so a bad --data fails before anything is sent. */
function syntheticFactory(data: string, tokenizer: SimTokenizer, seed: number): () => Workload {
  const spec = parseDataSpec(data)
  return () => new SyntheticWorkload(spec, tokenizer, seed)
}
