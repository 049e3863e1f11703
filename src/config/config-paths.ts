import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** Expands files and directories (their *.yaml / *.yml files, sorted, not recursive) into file paths. */
export async function expandConfigPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = []
  for (const p of paths) {
    if ((await stat(p)).isDirectory()) {
      const names = (await readdir(p)).filter((n) => /\.ya?ml$/.test(n)).sort()
      files.push(...names.map((n) => join(p, n)))
    } else files.push(p)
  }
  return files
}
