import { parse } from '@marcbachmann/cel-js'

/** What CEL expressions of AuthPolicy and rate-limit policies see (Kuadrant's well-known attributes, the ones we have). */
export interface CelContext {
  request: RequestAttributes
  auth?: { identity: Record<string, unknown> }
  /**
   * Predicates already evaluated for this request, by source: the RateLimitPolicy and TokenRateLimitPolicy that tiers
   * derive share theirs, and a CEL evaluation costs tens of microseconds. Cleared when `auth` changes.
   */
  memo?: Map<string, boolean>
  /**
   * `auth.identity` is one object shared by all requests of its key and never changed: what is computed from it (and the
   * path) may be remembered per identity.
   */
  sharedIdentity?: boolean
}

export interface RequestAttributes {
  /** The client's path, without the query. */
  path: string
  url_path: string
  query: string
  method: string
  host: string
  /** Lower-case names. */
  headers: Readonly<Record<string, string | string[] | undefined>>
}

export type CelProgram = (context: CelContext) => unknown

/** Compiles once (at load; syntax was checked by the schema); evaluation is a function call per request. */
export function compileCel(source: string): CelProgram {
  return parse(source) as unknown as CelProgram
}

/** Whether an expression reads `request.*` (otherwise its value depends on `auth` alone). */
export function readsRequest(program: CelProgram): boolean {
  return requestFields(program).size > 0
}

/** The `request.<field>` attributes an expression reads; `*` when it uses `request` otherwise (as a whole, by index). */
export function requestFields(program: CelProgram): Set<string> {
  const fields = new Set<string>()
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit)
    if (typeof node !== 'object' || node === null) return
    const n = node as { op?: unknown; args?: unknown }
    const args = n.args as unknown[]
    const object = n.op === '.' && Array.isArray(args) ? (args[0] as { op?: unknown; args?: unknown }) : undefined
    if (object?.op === 'id' && object.args === 'request' && typeof args[1] === 'string') fields.add(args[1])
    else if (n.op === 'id' && n.args === 'request') fields.add('*')
    else visit(n.args)
  }
  visit((program as unknown as { ast: unknown }).ast)
  return fields
}

/** A predicate is true only if it evaluates to true; a missing attribute or a type error makes it false (no match). */
export function compilePredicate(source: string): (context: CelContext) => boolean {
  const program = compileCel(source)
  return (context) => {
    const known = context.memo?.get(source)
    if (known !== undefined) return known
    let value: boolean
    try {
      value = program(context) === true
    } catch {
      value = false
    }
    ;(context.memo ??= new Map()).set(source, value)
    return value
  }
}

/** Every predicate of a `when` list must be true. */
export function compileWhen(when: readonly { predicate: string }[] | undefined): (context: CelContext) => boolean {
  const predicates = (when ?? []).map((w) => compilePredicate(w.predicate))
  if (predicates.length === 0) return () => true
  return (context) => predicates.every((p) => p(context))
}

/** A CEL value as the text a counter or header holds (CEL integers are bigints). */
export function celText(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) ?? ''
}
