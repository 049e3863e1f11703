import { z } from 'zod'
import { engineConfigSchema, type EngineConfig } from '../datalayer/engine-metrics.js'
import type { PluginDefinition } from '../framework/registry.js'
import type { Plugin } from '../framework/types.js'

const parameters = z.strictObject({ engineConfigs: z.array(engineConfigSchema).optional() })

/**
 * Maps engine metric names to the canonical fields. An `engineConfigs` entry replaces the built-in
 * config of that engine (vllm, sglang, trtllm); the in-process picker hands them to the scraper.
 */
export const coreMetricsExtractor: PluginDefinition<z.infer<typeof parameters>> = {
  type: 'core-metrics-extractor',
  parameters,
  kinds: ['data-source'],
  create: (name, p): Plugin & { engineConfigs: readonly EngineConfig[] } => ({
    type: 'core-metrics-extractor',
    name,
    engineConfigs: p.engineConfigs ?? [],
  }),
}
