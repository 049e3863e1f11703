const NEEDS_WORK = /%|\/\/|\/\.\.?(?:\/|$)/

/**
 * Normalises a request path once, before any matching, so that policy and routing always see the same path:
 * merges `//`, resolves `.` and `..` segments (never above the root), and decodes percent-escapes of unreserved
 * characters. `%2F` stays encoded (Envoy's default), so an escaped slash can never create a new path segment.
 * Returns undefined for a path that is not origin-form or holds an invalid escape (the caller answers 400).
 */
export function normalizePath(rawPath: string): string | undefined {
  if (!rawPath.startsWith('/')) return undefined
  // Most paths are already normal (no escape, no empty, `.` or `..` segment): one scan instead of a rebuild.
  if (!NEEDS_WORK.test(rawPath)) return rawPath
  if (/%(?![0-9a-fA-F]{2})/.test(rawPath)) return undefined
  const decoded = rawPath.replace(/%([0-9a-fA-F]{2})/g, (escape, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16))
    return /[A-Za-z0-9\-._~]/.test(ch) ? ch : escape.toUpperCase()
  })
  const out: string[] = []
  for (const segment of decoded.split('/')) {
    if (segment === '' || segment === '.') continue
    if (segment === '..') out.pop()
    else out.push(segment)
  }
  const trailing = decoded.length > 1 && decoded.endsWith('/') && out.length > 0 ? '/' : ''
  return '/' + out.join('/') + trailing
}

/** Splits a request target into path and query (the query keeps its leading '?', or is ''). */
export function splitTarget(target: string): { path: string; query: string } {
  const q = target.indexOf('?')
  return q < 0 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q) }
}
