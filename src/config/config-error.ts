/** One problem in a config file: where (file, line, resource) and what (field path, message). */
export interface ConfigError {
  file: string
  line?: number
  /** `Kind/namespace/name`, or `document N` when the resource could not be identified. */
  resource: string
  /** Field path such as `spec.rules[0].matches[0].path.type`; empty for whole-document problems. */
  path: string
  message: string
}

export function formatConfigError(e: ConfigError): string {
  const where = e.line === undefined ? e.file : `${e.file}:${e.line}`
  return `${where}: ${e.resource}: ${e.path ? `${e.path}: ` : ''}${e.message}`
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('')
}

export class ConfigLoadError extends Error {
  constructor(readonly errors: ConfigError[]) {
    super(`invalid configuration (${errors.length} problem${errors.length === 1 ? '' : 's'}):\n` + errors.map(formatConfigError).join('\n'))
    this.name = 'ConfigLoadError'
  }
}
