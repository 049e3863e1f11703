import { describe, expect, it } from 'vitest'
import { parseStackText } from '../config/load-stack.js'
import { deriveStack } from '../controller/derive-stack.js'
import { RouteTable, type RequestFacts } from './route-table.js'

const GATEWAY = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  listeners:
  - {name: http, protocol: HTTP, port: 8080, allowedRoutes: {namespaces: {from: All}}}
`

function table(routesYaml: string): RouteTable {
  const { resources, errors } = parseStackText(GATEWAY + '---\n' + routesYaml, 'test.yaml')
  expect(errors).toEqual([])
  const stack = deriveStack(resources)
  return RouteTable.forListener(stack, stack.gateways[0]!, stack.gateways[0]!.spec.listeners[0]!)
}

const req = (path: string, more: Partial<RequestFacts> = {}): RequestFacts => ({
  method: 'GET',
  path,
  host: 'localhost',
  headers: {},
  query: new URLSearchParams(),
  ...more,
})

const route = (name: string, rules: string, extra = '') => `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: app}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  ${extra}
  rules:
${rules}
---`

const svc = (name: string) => `
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: app}
spec: {selector: {app: ${name}}, ports: [{port: 8000}]}
---`

describe('RouteTable precedence', () => {
  const t = table(
    svc('a') +
      svc('b') +
      route(
        'r1',
        `  - name: prefix-short
    matches: [{path: {type: PathPrefix, value: /v1}}]
    backendRefs: [{name: a, port: 8000}]
  - name: prefix-long
    matches: [{path: {type: PathPrefix, value: /v1/chat}}]
    backendRefs: [{name: a, port: 8000}]
  - name: exact
    matches: [{path: {type: Exact, value: /v1/chat/completions}}]
    backendRefs: [{name: a, port: 8000}]
  - name: method
    matches: [{path: {type: PathPrefix, value: /v1}, method: POST}]
    backendRefs: [{name: a, port: 8000}]
  - name: header
    matches: [{path: {type: PathPrefix, value: /v1}, method: POST, headers: [{name: X-Tenant, value: blue}]}]
    backendRefs: [{name: a, port: 8000}]
  - name: regex
    matches: [{path: {type: RegularExpression, value: "/models/[0-9]+"}}]
    backendRefs: [{name: a, port: 8000}]`,
      ) +
      route('r2', `  - name: query
    matches: [{path: {type: PathPrefix, value: /v1}, method: POST, headers: [{name: x-tenant, value: blue}], queryParams: [{name: debug, value: "1"}]}]
    backendRefs: [{name: b, port: 8000}]`),
  )
  const winner = (r: RequestFacts) => t.match(r)?.rule.name

  it('Exact beats every prefix', () => expect(winner(req('/v1/chat/completions'))).toBe('exact'))
  it('longest prefix wins, whole segments only', () => {
    expect(winner(req('/v1/chat/x'))).toBe('prefix-long')
    expect(winner(req('/v1/chatty'))).toBe('prefix-short')
  })
  it('a method match beats no method at equal path', () => expect(winner(req('/v1/x', { method: 'POST' }))).toBe('method'))
  it('more header matches win (names case-insensitive)', () =>
    expect(winner(req('/v1/x', { method: 'POST', headers: { 'x-tenant': 'blue' } }))).toBe('header'))
  it('more query matches win, across routes', () =>
    expect(winner(req('/v1/x', { method: 'POST', headers: { 'x-tenant': 'blue' }, query: new URLSearchParams('debug=1') }))).toBe('query'))
  it('regular expressions are anchored', () => {
    expect(winner(req('/models/42'))).toBe('regex')
    expect(winner(req('/models/42/x'))).toBeUndefined()
  })
  it('no match → undefined (the gateway answers 404)', () => expect(winner(req('/nothing'))).toBeUndefined())
})

describe('RouteTable ties and hostnames', () => {
  it('the older route (declared first) wins an exact tie', () => {
    const t = table(
      svc('a') +
        route('older', `  - matches: [{path: {type: PathPrefix, value: /x}}]\n    backendRefs: [{name: a}]`) +
        route('newer', `  - matches: [{path: {type: PathPrefix, value: /x}}]\n    backendRefs: [{name: a}]`),
    )
    expect(t.match(req('/x'))?.route.metadata.name).toBe('older')
  })

  it('an exact hostname beats a wildcard, which beats none', () => {
    const t = table(
      svc('a') +
        route('any', `  - matches: [{path: {type: PathPrefix, value: /}}]\n    backendRefs: [{name: a}]`) +
        route('wild', `  - matches: [{path: {type: PathPrefix, value: /}}]\n    backendRefs: [{name: a}]`, 'hostnames: ["*.example.com"]') +
        route('exact', `  - matches: [{path: {type: PathPrefix, value: /}}]\n    backendRefs: [{name: a}]`, 'hostnames: ["api.example.com"]'),
    )
    expect(t.match(req('/', { host: 'api.example.com' }))?.route.metadata.name).toBe('exact')
    expect(t.match(req('/', { host: 'web.example.com' }))?.route.metadata.name).toBe('wild')
    expect(t.match(req('/', { host: 'example.com' }))?.route.metadata.name).toBe('any')
  })
})
