import { parse } from 'yaml'
import { seededRandom } from '../../plugins/contract/fixtures.js'
import { loadEndpointPickerConfig } from '../config-loader.js'
import { instantiatePlugins } from '../plugin-set.js'
import { Scheduler } from '../scheduler.js'

/** A Scheduler over a YAML EndpointPickerConfig, for tests; throws on config errors. */
export function schedulerFor(yaml: string, seed = 1): Scheduler {
  const { config, errors } = loadEndpointPickerConfig(parse(yaml))
  if (!config) throw new Error(JSON.stringify(errors))
  return new Scheduler(instantiatePlugins(config, { now: () => 1_000_050, random: seededRandom(seed) }))
}
