import { fileURLToPath } from 'node:url'
import { loadStackFiles } from '../config/load-stack.js'
import type { Resource } from '../config/resource.js'

/** The embedded default stack: the seeds' cluster, shipped as readable YAML. */
export const DEFAULT_STACK_FILE = fileURLToPath(new URL('../../examples/seed-cluster.yaml', import.meta.url))

export function loadStackOrDefault(files: readonly string[] | undefined): Promise<Resource[]> {
  return loadStackFiles(files && files.length > 0 ? files : [DEFAULT_STACK_FILE])
}
