import { z } from 'zod'
import { durationMs } from '../framework/duration.js'
import type { PluginDefinition } from '../framework/registry.js'
import type { Plugin } from '../framework/types.js'

const parameters = z.strictObject({
  /** Overrides the scheme of the endpoint's URL (GIE's default is http, as pods are addressed by IP). */
  scheme: z.enum(['http', 'https']).optional(),
  path: z.string().startsWith('/').default('/metrics'),
  /** Accept self-signed model-server certificates (KServe's vLLM serves its own). */
  insecureSkipVerify: z.boolean().default(true),
  /** Poll interval; unset = the picker's base interval (`--refresh-metrics-interval`, 50 ms). */
  interval: durationMs.optional(),
})
export type MetricsDataSourceParams = z.infer<typeof parameters>

/** Where and how often the data layer scrapes each endpoint; the in-process picker reads these settings. */
export const metricsDataSource: PluginDefinition<MetricsDataSourceParams> = {
  type: 'metrics-data-source',
  parameters,
  kinds: ['data-source'],
  create: (name, params): Plugin & { params: MetricsDataSourceParams } => ({ type: 'metrics-data-source', name, params }),
}
