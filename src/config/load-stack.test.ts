import { describe, expect, it } from 'vitest'
import { formatConfigError } from './config-error.js'
import { parseStackText } from './load-stack.js'

const messages = (text: string) => parseStackText(text, 'my-stack.yaml').errors.map(formatConfigError)
/** Errors of an HTTPRoute `default/r` with these rules (its first rule is on line 6). */
const routeErrors = (rules: string) => messages(`apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  rules:\n${rules}`)

describe('parseStackText errors name the file, line, resource and field', () => {
  it('unknown fields are errors, one per field', () => {
    expect(
      messages(`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  listeners:
  - name: http
    protocol: HTTP
    port: 8080
    colour: blue
  flavour: x
`),
    ).toEqual([
      'my-stack.yaml:9: Gateway/infra/gw: spec.listeners[0].colour: unknown field',
      'my-stack.yaml:10: Gateway/infra/gw: spec.flavour: unknown field',
    ])
  })

  it('unknown kinds are refused with the list of known ones', () => {
    const [msg] = messages('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n')
    expect(msg).toMatch(/^my-stack\.yaml:2: ConfigMap\/default\/x: kind: unknown kind "ConfigMap"; known kinds: Gateway, HTTPRoute/)
  })

  it('every problem of every document is reported, not just the first', () => {
    const errs = messages(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: ns}
spec:
  rules:
  - matches: [{path: {type: Prefix, value: /a}}]
---
apiVersion: serving.kserve.io/v1alpha1
kind: LLMInferenceService
metadata: {name: m, namespace: ns}
spec:
  replicas: -1
`)
    expect(errs).toEqual([
      expect.stringMatching(/^my-stack\.yaml:6: HTTPRoute\/ns\/r: spec\.rules\[0\]\.matches\[0\]\.path\.type: Invalid option/),
      expect.stringMatching(/^my-stack\.yaml:12: LLMInferenceService\/ns\/m: spec\.model: /),
      expect.stringMatching(/^my-stack\.yaml:12: LLMInferenceService\/ns\/m: spec\.replicas: /),
    ])
  })

  it('path values are checked (no //, must start with /)', () => {
    const errs = routeErrors(`  - matches: [{path: {value: "a//b"}}]
`)
    expect(errs).toEqual([
      'my-stack.yaml:6: HTTPRoute/default/r: spec.rules[0].matches[0].path.value: must start with /',
      'my-stack.yaml:6: HTTPRoute/default/r: spec.rules[0].matches[0].path.value: must not contain //, /./, /../, %2F or #',
    ])
  })

  it('header names and values of route filters are checked (a value with CR/LF would split the header)', () => {
    const errs = routeErrors(`  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: "x ok", value: "a"}, {name: x-b, value: "1\\r\\nx-evil: 2"}]
`)
    expect(errs).toEqual([
      expect.stringMatching(/^my-stack\.yaml:9: HTTPRoute\/default\/r: spec\.rules\[0\]\.filters\[0\]\.requestHeaderModifier\.set\[0\]\.name: must be an HTTP header name/),
      'my-stack.yaml:9: HTTPRoute/default/r: spec.rules[0].filters[0].requestHeaderModifier.set[1].value: must not contain CR, LF or other control characters',
    ])
  })

  it('YAML syntax errors carry their line', () => {
    const [msg] = messages('kind: Gateway\nmetadata: {name: [\n')
    expect(msg).toMatch(/^my-stack\.yaml:\d+: document 1: /)
  })

  it('ModelServer needs exactly one of simulator or external, and simulator options are checked', () => {
    expect(
      messages(`apiVersion: maitred.dev/v1alpha1
kind: ModelServer
metadata: {name: a}
spec: {}
---
apiVersion: maitred.dev/v1alpha1
kind: ModelServer
metadata: {name: b}
spec:
  simulator: {maxNumSeqs: 0}
`),
    ).toEqual([
      'my-stack.yaml:4: ModelServer/default/a: spec: set exactly one of spec.simulator or spec.external',
      expect.stringMatching(/^my-stack\.yaml:10: ModelServer\/default\/b: spec\.simulator\.maxNumSeqs: /),
    ])
  })
})

describe('Kuadrant policies are checked at load', () => {
  it('a CEL syntax error, a bad window and a route override are located', () => {
    expect(
      messages(`apiVersion: kuadrant.io/v1
kind: RateLimitPolicy
metadata: {name: rl, namespace: gw}
spec:
  targetRef: {kind: HTTPRoute, name: r}
  overrides:
    limits:
      per-user:
        rates: [{limit: 10, window: 1d}]
        when: [{predicate: 'auth.identity.tier == '}]
`),
    ).toEqual([
      'my-stack.yaml:9: RateLimitPolicy/gw/rl: spec.overrides.limits.per-user.rates[0].window: must be a Gateway API duration such as 10s, 1m30s or 0s',
      expect.stringMatching(/^my-stack\.yaml:10: RateLimitPolicy\/gw\/rl: spec\.overrides\.limits\.per-user\.when\[0\]\.predicate: CEL syntax error: /),
      'my-stack.yaml:7: RateLimitPolicy/gw/rl: spec.overrides: overrides may only target a Gateway',
    ])
  })

  it('an AuthPolicy rule with two methods, and a deny response with a bad expression, are located', () => {
    const errs = messages(`apiVersion: kuadrant.io/v1
kind: AuthPolicy
metadata: {name: a, namespace: gw}
spec:
  targetRef: {kind: Gateway, name: g}
  rules:
    authentication:
      both: {anonymous: {}, jwt: {jwksUrl: "http://127.0.0.1:1/jwks"}}
    response:
      unauthorized: {body: {expression: 'auth.identity.'}}
`)
    expect(errs[0]).toBe('my-stack.yaml:8: AuthPolicy/gw/a: spec.rules.authentication.both: set exactly one of apiKey, jwt or anonymous')
    expect(errs[1]).toMatch(/^my-stack\.yaml:10: AuthPolicy\/gw\/a: spec\.rules\.response\.unauthorized\.body\.expression: CEL syntax error/)
  })
})
