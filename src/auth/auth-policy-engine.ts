import type { AuthenticationRule, AuthRules, ValueOrExpression } from '../config/authpolicy-schema.js'
import type { Secret } from '../config/secret-schema.js'
import type { Tier } from '../config/tier-schema.js'
import type { ApiKeyStore } from '../keys/api-key-store.js'
import { celText, compileCel, compilePredicate, compileWhen, readsRequest, type CelContext } from './cel.js'
import { credentialSource, readCredential, type CredentialSource } from './credentials.js'
import { DenyResponse } from './deny-response.js'
import { anonymousIdentity, type IdentitySource, type ResolvedIdentity } from './identity-source.js'
import { JwtIdentity } from './jwt-identity.js'
import { KeyStoreIdentity } from './key-store-identity.js'
import { SecretKeyIdentity } from './secret-key-identity.js'

export interface AuthDependencies {
  keyStore: () => ApiKeyStore | undefined
  secrets: readonly Secret[]
  tiers: ReadonlyMap<string, Tier>
}

/** A successful authentication: the identity rate limits see (the `identity` filter, or the whole identity). */
export interface Authenticated {
  resolved: ResolvedIdentity
  /** `auth.identity` for RateLimitPolicy predicates and counters. */
  exported: Record<string, unknown>
  upstreamHeaders: Record<string, string>
}

interface CompiledRule {
  name: string
  priority: number
  when: (c: CelContext) => boolean
  source: IdentitySource
  credential: CredentialSource
  extend: ((identity: Record<string, unknown>, c: CelContext) => void) | undefined
}

interface CompiledAuthorization {
  priority: number
  when: (c: CelContext) => boolean
  patterns: ((c: CelContext) => boolean)[]
  name: string
}

type Properties = [string, (c: CelContext) => unknown][]

function compileProperties(properties: Record<string, ValueOrExpression>): Properties {
  return Object.entries(properties).map(([name, v]) => {
    if (v.expression === undefined) return [name, () => v.value]
    const program = compileCel(v.expression)
    return [
      name,
      (c: CelContext) => {
        try {
          return program(c)
        } catch {
          return undefined
        }
      },
    ]
  })
}

const jsonValue = (v: unknown): unknown => (typeof v === 'bigint' ? Number(v) : v)

/**
 * One effective AuthPolicy block compiled (CEL parsed once): authentication rules by priority (the first identity found
 * wins; rules of one priority are tried together), then every authorization rule must allow, then the success filters
 * export the identity the rate limits see. Credentials named by any rule are never forwarded upstream.
 */
export class CompiledAuthPolicy {
  readonly #when: (c: CelContext) => boolean
  readonly #rules: CompiledRule[]
  readonly #authorizations: CompiledAuthorization[]
  readonly #identityFilter: Properties | undefined
  /**
   * What the identity filter exported for a key-store identity (one object per key, shared and never changed), when the
   * filter reads nothing of the request: computed at a key's first request rather than at each.
   */
  readonly #exportedByIdentity: WeakMap<object, Record<string, unknown>> | undefined
  readonly #successHeaders: [string, Properties | ((c: CelContext) => unknown)][]
  readonly #unauthenticated: DenyResponse
  readonly #unauthorized: DenyResponse
  /** Header names and query parameters that carry credentials. */
  readonly stripHeaders = new Set<string>()
  readonly stripQuery: string[] = []
  readonly checksModels: boolean

  constructor(
    readonly policy: string,
    spec: { rules?: AuthRules | undefined; when?: { predicate: string }[] | undefined },
    namespace: string,
    private readonly deps: AuthDependencies,
  ) {
    const rules = spec.rules ?? {}
    this.#when = compileWhen(spec.when)
    this.#rules = Object.entries(rules.authentication ?? {})
      .map(([name, rule]) => this.#compileRule(name, rule, namespace))
      .sort((a, b) => a.priority - b.priority)
    this.checksModels = Object.values(rules.authentication ?? {}).some((r) => r.apiKey?.keyStore !== undefined)
    this.#authorizations = Object.entries(rules.authorization ?? {})
      .map(([name, rule]) => ({ name, priority: rule.priority, when: compileWhen(rule.when), patterns: rule.patternMatching.patterns.map((p) => compilePredicate(p.predicate)) }))
      .sort((a, b) => a.priority - b.priority)
    const identity = rules.response?.success?.filters?.identity
    this.#identityFilter = identity?.json ? compileProperties(identity.json.properties) : undefined
    const filterReadsRequest = Object.values(identity?.json?.properties ?? {}).some((v) => v.expression !== undefined && readsRequest(compileCel(v.expression)))
    this.#exportedByIdentity = this.#identityFilter && !filterReadsRequest ? new WeakMap() : undefined
    this.#successHeaders = Object.entries(rules.response?.success?.headers ?? {}).map(([name, f]) => {
      if (f.json) return [name.toLowerCase(), compileProperties(f.json.properties)]
      const plain = compileProperties({ v: f.plain ?? { value: '' } })[0]![1]
      return [name.toLowerCase(), plain]
    })
    this.#unauthenticated = new DenyResponse(401, rules.response?.unauthenticated)
    this.#unauthorized = new DenyResponse(403, rules.response?.unauthorized)
  }

  #compileRule(name: string, rule: AuthenticationRule, namespace: string): CompiledRule {
    const credential = credentialSource(rule.credentials)
    if (credential.header) this.stripHeaders.add(credential.header.name)
    if (credential.query !== undefined && !this.stripQuery.includes(credential.query)) this.stripQuery.push(credential.query)
    let source: IdentitySource = anonymousIdentity
    if (rule.apiKey?.keyStore) source = new KeyStoreIdentity(this.deps.keyStore)
    else if (rule.apiKey?.selector) source = new SecretKeyIdentity(this.deps.secrets, rule.apiKey.selector.matchLabels, rule.apiKey.allNamespaces ? undefined : namespace)
    else if (rule.jwt) source = new JwtIdentity(rule.jwt)
    const defaults = rule.defaults && compileProperties(rule.defaults)
    const overrides = rule.overrides && compileProperties(rule.overrides)
    const extend =
      defaults || overrides
        ? (identity: Record<string, unknown>, c: CelContext) => {
            for (const [k, v] of defaults ?? []) if (identity[k] === undefined) identity[k] = jsonValue(v(c))
            for (const [k, v] of overrides ?? []) identity[k] = jsonValue(v(c))
          }
        : undefined
    return { name, priority: rule.priority, when: compileWhen(rule.when), source, credential, extend }
  }

  /**
   * Authenticates and authorizes; throws (or rejects with) the policy's AdmissionDenial (401 / 403). An identity known
   * without waiting (a key already verified, anonymous) is answered without a promise: this runs per request.
   */
  authenticate(context: CelContext, read: (source: CredentialSource) => string | undefined): Authenticated | Promise<Authenticated> {
    if (!this.#when(context)) return { resolved: { identity: {} }, exported: {}, upstreamHeaders: {} }
    if (this.#rules.length === 0) return this.#authorize(context, read, { identity: { anonymous: true } })
    const resolved = this.#identify(context, read, 0)
    return resolved instanceof Promise ? resolved.then((r) => this.#authorize(context, read, r)) : this.#authorize(context, read, resolved)
  }

  #authorize(context: CelContext, read: (source: CredentialSource) => string | undefined, resolved: ResolvedIdentity | undefined): Authenticated {
    if (!resolved) {
      const presented = this.#rules.some((r) => r.source.needsCredential && read(r.credential) !== undefined)
      throw this.#unauthenticated.deny(context, presented ? 'invalid, revoked or expired API key' : 'missing credentials: send Authorization: Bearer <API key>', presented ? 'invalid_api_key' : 'missing_api_key')
    }
    context.auth = { identity: resolved.identity }
    context.memo = undefined
    for (const rule of this.#authorizations) {
      if (!rule.when(context)) continue
      if (!rule.patterns.every((p) => p(context))) throw this.#unauthorized.deny(context, `not authorized (rule ${rule.name})`, 'permission_denied')
    }
    let exported = resolved.identity
    if (this.#identityFilter) {
      const cache = resolved.key ? this.#exportedByIdentity : undefined
      const known = cache?.get(resolved.identity)
      if (known) exported = known
      else {
        exported = {}
        for (const [k, v] of this.#identityFilter) exported[k] = jsonValue(v(context))
        cache?.set(resolved.identity, exported)
      }
    }
    const upstreamHeaders: Record<string, string> = {}
    for (const [name, value] of this.#successHeaders) {
      if (typeof value === 'function') upstreamHeaders[name] = celText(value(context))
      else upstreamHeaders[name] = JSON.stringify(Object.fromEntries(value.map(([k, v]) => [k, jsonValue(v(context))])))
    }
    return { resolved, exported, upstreamHeaders }
  }

  /** The first identity found, by priority from rule `from` on (rules of one priority are asked together). */
  #identify(context: CelContext, read: (source: CredentialSource) => string | undefined, from: number): ResolvedIdentity | undefined | Promise<ResolvedIdentity | undefined> {
    for (let i = from; i < this.#rules.length; ) {
      const priority = this.#rules[i]!.priority
      const group: CompiledRule[] = []
      for (; i < this.#rules.length && this.#rules[i]!.priority === priority; i++) if (this.#rules[i]!.when(context)) group.push(this.#rules[i]!)
      const found = group.map((r) => resolveRule(r, read))
      if (found.some((f) => f instanceof Promise)) {
        const next = i
        return Promise.all(found).then((settled) => this.#chosen(group, settled, context) ?? this.#identify(context, read, next))
      }
      const chosen = this.#chosen(group, found as (ResolvedIdentity | undefined)[], context)
      if (chosen) return chosen
    }
    return undefined
  }

  /** The identity of a priority group's first rule that found one, with its defaults and overrides applied. */
  #chosen(group: CompiledRule[], found: (ResolvedIdentity | undefined)[], context: CelContext): ResolvedIdentity | undefined {
    const index = found.findIndex((f) => f !== undefined)
    if (index < 0) return undefined
    const resolved = found[index]!
    const extend = group[index]!.extend
    if (!extend) return resolved
    // A source may share one identity between requests (the key store does): extend a copy.
    const identity = { ...resolved.identity }
    extend(identity, context)
    return { ...resolved, identity }
  }

  /**
   * A key-store identity may call a model only if its tier lists it (or lists none) and the key's own list does
   * (or is empty); an unknown tier may call nothing. Throws the policy's 403.
   */
  authorizeModel(auth: Authenticated, model: string | undefined, context: CelContext): void {
    const key = auth.resolved.key
    if (!key || model === undefined) return
    const tier = this.deps.tiers.get(key.tier)
    let why: string | undefined
    if (!tier) why = `tier ${JSON.stringify(key.tier)} of this key is not configured`
    else if (tier.spec.models && !tier.spec.models.includes(model)) why = `tier ${key.tier} may not use model ${JSON.stringify(model)}`
    else if (key.models.length > 0 && !key.models.includes(model)) why = `this key may not use model ${JSON.stringify(model)}`
    if (why !== undefined) throw this.#unauthorized.deny(context, why, 'model_not_allowed')
  }
}

/** The identity a rule's source gives for the request's credential (a function, not a closure: this runs per request). */
function resolveRule(rule: CompiledRule, read: (source: CredentialSource) => string | undefined): ReturnType<IdentitySource['resolve']> {
  const credential = read(rule.credential)
  return rule.source.needsCredential && credential === undefined ? undefined : rule.source.resolve(credential)
}
