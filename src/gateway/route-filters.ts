import type { HTTPRouteFilter } from '../config/httproute-schema.js'
import { replacePrefix } from './path-match.js'
import type { CompiledMatch } from './route-table.js'

type HeaderModifier = Extract<HTTPRouteFilter, { type: 'RequestHeaderModifier' }>['requestHeaderModifier']

/** Applies a Gateway API header modifier in place: set replaces, add appends, remove deletes (names case-insensitive). */
export function modifyHeaders(headers: Record<string, string | string[]>, mod: HeaderModifier): void {
  for (const { name, value } of mod.set ?? []) headers[name.toLowerCase()] = value
  for (const { name, value } of mod.add ?? []) {
    const key = name.toLowerCase()
    const prev = headers[key]
    headers[key] = prev === undefined ? value : `${Array.isArray(prev) ? prev.join(',') : prev},${value}`
  }
  for (const name of mod.remove ?? []) delete headers[name.toLowerCase()]
}

export interface RewriteResult {
  path: string
  hostname?: string
  redirect?: { status: number; location: string }
  responseHeaders?: HeaderModifier
}

/** Path rewrite, host rewrite, redirect and response-header modifications of the winning rule (request headers are applied by the caller). */
export function applyRouteFilters(
  m: CompiledMatch,
  path: string,
  query: string,
  host: string,
  scheme: 'http' | 'https',
  port: number,
): RewriteResult {
  const result: RewriteResult = { path }
  for (const f of m.rule.filters ?? []) {
    if (f.type === 'URLRewrite') {
      if (f.urlRewrite.hostname) result.hostname = f.urlRewrite.hostname
      result.path = rewritePath(m, path, f.urlRewrite.path) ?? result.path
    } else if (f.type === 'ResponseHeaderModifier') result.responseHeaders = f.responseHeaderModifier
    else if (f.type === 'RequestRedirect') {
      const r = f.requestRedirect
      const newScheme = r.scheme ?? scheme
      const newPort = r.port ?? (r.scheme && r.scheme !== scheme ? undefined : port)
      const defaultPort = newScheme === 'https' ? 443 : 80
      const authority = `${r.hostname ?? host}${newPort === undefined || newPort === defaultPort ? '' : `:${newPort}`}`
      const newPath = rewritePath(m, path, r.path) ?? path
      result.redirect = { status: r.statusCode, location: `${newScheme}://${authority}${newPath}${query}` }
    }
  }
  return result
}

function rewritePath(m: CompiledMatch, path: string, modifier: Extract<HTTPRouteFilter, { type: 'URLRewrite' }>['urlRewrite']['path']): string | undefined {
  if (!modifier) return undefined
  if (modifier.type === 'ReplaceFullPath') return modifier.replaceFullPath
  return replacePrefix(path, m.pathValue, modifier.replacePrefixMatch)
}
