import { z } from 'zod'
import { durationMs } from '../framework/duration.js'
import type { PluginDefinition } from '../framework/registry.js'
import type { Plugin } from '../framework/types.js'

const parameters = z.strictObject({
  scheme: z.enum(['http', 'https']).default('http'),
  path: z.string().startsWith('/').default('/metrics'),
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
