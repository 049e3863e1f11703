/** Gateway API PathPrefix: element-wise by '/', a trailing '/' in the prefix is ignored (`/abc` matches `/abc/def`, not `/abcd`). */
export function matchesPathPrefix(path: string, prefix: string): boolean {
  const p = trimTrailingSlash(prefix)
  if (p === '') return true
  if (!path.startsWith(p)) return false
  return path.length === p.length || path[p.length] === '/'
}

export function trimTrailingSlash(prefix: string): string {
  return prefix.endsWith('/') ? prefix.slice(0, -1) : prefix
}

/**
 * URLRewrite ReplacePrefixMatch: replaces the matched prefix elements. `/foo/bar` with prefix `/foo` → `/xyz/bar`;
 * an empty or `/` replacement gives `/bar`; the bare prefix with replacement `/` gives `/`.
 */
export function replacePrefix(path: string, prefix: string, replacement: string): string {
  const rest = path.slice(trimTrailingSlash(prefix).length)
  const head = replacement.endsWith('/') && rest.startsWith('/') ? replacement.slice(0, -1) : replacement
  const result = head + rest
  if (result === '') return '/'
  return result.startsWith('/') ? result : `/${result}`
}
