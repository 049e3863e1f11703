import { fileURLToPath } from 'node:url'
import type { Resource } from '../config/resource.js'

/** The embedded default stack: the seeds' cluster, shipped as readable YAML. */
export const DEFAULT_STACK_FILE = fileURLToPath(new URL('../../examples/seed-cluster.yaml', import.meta.url))

export async function loadStackOrDefault(files: readonly string[] | undefined): Promise<Resource[]> {
  const { loadStackFiles } = await import('../config/load-stack.js')
  return loadStackFiles(files && files.length > 0 ? files : [DEFAULT_STACK_FILE])
}
