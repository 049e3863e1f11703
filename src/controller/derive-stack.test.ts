import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { checkDuplicates, parseStackText } from '../config/load-stack.js'
import { deriveStack } from './derive-stack.js'
import { routeStatus } from './route-status.js'

const seed = readFileSync(new URL('../../examples/seed-cluster.yaml', import.meta.url), 'utf8')

function derive(text: string) {
  const { resources, errors } = parseStackText(text, 'stack.yaml')
  expect(errors).toEqual([])
  return deriveStack(resources)
}

describe('deriveStack: the seeds\' cluster from one LLMInferenceService', () => {
  const stack = derive(seed)

  it('derives KServe\'s objects with KServe\'s names', () => {
    expect(stack.pools.map((p) => p.metadata.name)).toEqual(['qwen3-0-6b-inference-pool'])
    expect(stack.services.map((s) => s.metadata.name)).toEqual(['qwen3-0-6b-kserve-workload-svc'])
    expect(stack.routes.map((r) => r.metadata.name)).toEqual(['qwen3-0-6b-maas-route', 'qwen3-0-6b-kserve-route'])
    expect(stack.pickers.map((p) => [p.name, p.serviceName, p.poolName])).toEqual([
      ['qwen3-0-6b-kserve-router-scheduler', 'qwen3-0-6b-epp-service', 'qwen3-0-6b-inference-pool'],
    ])
    expect(stack.modelServers.map((m) => m.metadata.name)).toEqual(['qwen3-0-6b-kserve-0', 'qwen3-0-6b-kserve-1'])
    expect(stack.ownerOf['InferencePool/my-first-model/qwen3-0-6b-inference-pool']).toBe('LLMInferenceService/my-first-model/qwen3-0-6b')
  })

  it('labels the replicas so that both the pool and the Service select them', () => {
    const labels = stack.modelServers[0]!.metadata.labels!
    expect(labels['llm-d.ai/role']).toBe('both')
    for (const [k, v] of Object.entries(stack.pools[0]!.spec.selector.matchLabels)) expect(labels[k]).toBe(v)
    for (const [k, v] of Object.entries(stack.services[0]!.spec.selector)) expect(labels[k]).toBe(v)
    expect(stack.modelServers[0]!.spec.simulator?.model).toBe('Qwen/Qwen3-0.6B')
  })

  it('writes the seed\'s three rules, prefix rewritten', () => {
    const route = stack.routes.find((r) => r.metadata.name === 'qwen3-0-6b-kserve-route')!
    expect(route.spec.parentRefs).toMatchObject([{ name: 'openshift-ai-inference', namespace: 'openshift-ingress' }])
    const rules = route.spec.rules.map((r) => ({
      path: r.matches[0]!.path!.value,
      backend: `${r.backendRefs![0]!.kind}/${r.backendRefs![0]!.name}`,
      rewrite: r.filters?.[0]?.type === 'URLRewrite' && r.filters[0].urlRewrite.path?.type === 'ReplacePrefixMatch' ? r.filters[0].urlRewrite.path.replacePrefixMatch : undefined,
    }))
    expect(rules).toEqual([
      { path: '/my-first-model/qwen3-0-6b/v1/chat/completions', backend: 'InferencePool/qwen3-0-6b-inference-pool', rewrite: '/v1/chat/completions' },
      { path: '/my-first-model/qwen3-0-6b/v1/completions', backend: 'InferencePool/qwen3-0-6b-inference-pool', rewrite: '/v1/completions' },
      { path: '/my-first-model/qwen3-0-6b', backend: 'Service/qwen3-0-6b-kserve-workload-svc', rewrite: '/' },
    ])
  })

  it('accepts the route on the default gateway with every ref resolved', () => {
    const [parent] = routeStatus(stack.routes.find((r) => r.metadata.name === 'qwen3-0-6b-kserve-route')!, stack)
    expect(parent!.conditions.map((c) => `${c.type}=${c.status}`)).toEqual(['Accepted=True', 'ResolvedRefs=True'])
    expect(parent!.listeners).toEqual(['http', 'https'])
  })
})

describe('deriveStack: the MaaS door', () => {
  const stack = derive(seed)

  it('turns the tiers into a RateLimitPolicy and a TokenRateLimitPolicy on the key-store AuthPolicy\'s target, per key', () => {
    expect(stack.rateLimitPolicies.map((p) => p.metadata.name)).toEqual(['maas-gateway-auth-tier-requests'])
    expect(stack.tokenRateLimitPolicies.map((p) => p.metadata.name)).toEqual(['maas-gateway-auth-tier-tokens'])
    const requests = stack.rateLimitPolicies[0]!
    expect(requests.spec.targetRef).toMatchObject({ kind: 'Gateway', name: 'maas-gateway' })
    expect(Object.fromEntries(Object.entries(requests.spec.limits!).map(([tier, l]) => [tier, l.rates]))).toEqual({
      free: [{ limit: 5, window: '2m' }],
      premium: [{ limit: 20, window: '2m' }],
      enterprise: [{ limit: 50, window: '2m' }],
    })
    const tokens = stack.tokenRateLimitPolicies[0]!.spec.limits!
    expect([tokens.free!.rates[0]!.limit, tokens.premium!.rates[0]!.limit, tokens.enterprise!.rates[0]!.limit]).toEqual([100, 50_000, 100_000])
    expect(tokens.free).toMatchObject({ counters: [{ expression: 'auth.identity.userid' }], when: [{ predicate: 'auth.identity.tier == "free" && !request.path.endsWith("/v1/models")' }] })
    expect(stack.ownerOf['RateLimitPolicy/openshift-ingress/maas-gateway-auth-tier-requests']).toBe('AuthPolicy/openshift-ingress/maas-gateway-auth')
  })

  it('keeps a declared policy of the same name instead of deriving one', () => {
    const own = `${seed}
---
apiVersion: kuadrant.io/v1
kind: RateLimitPolicy
metadata: {name: maas-gateway-auth-tier-requests, namespace: openshift-ingress}
spec:
  targetRef: {kind: Gateway, name: maas-gateway}
  limits: {everyone: {rates: [{limit: 1, window: 1s}]}}
`
    const policies = derive(own).rateLimitPolicies
    expect(policies).toHaveLength(1)
    expect(Object.keys(policies[0]!.spec.limits!)).toEqual(['everyone'])
  })
})

describe('deriveStack variations', () => {
  const isvc = (spec: string) => `
apiVersion: serving.kserve.io/v1alpha2
kind: LLMInferenceService
metadata: {name: m, namespace: ns}
spec:
  model: {uri: hf://x/y}
${spec}`

  it('defaults the served model name to the resource name and replicas to 1', () => {
    const stack = derive(isvc('  router: {scheduler: {}, route: {}, gateway: {}}'))
    expect(stack.modelServers.map((m) => m.spec.simulator?.model)).toEqual(['m'])
  })

  it('a prefill workload gives prefill and decode replicas and the P/D picker config', () => {
    const stack = derive(isvc('  replicas: 2\n  prefill: {replicas: 2}\n  router: {scheduler: {}, route: {}, gateway: {}}'))
    expect(stack.modelServers.map((m) => `${m.metadata.name}:${m.metadata.labels!['llm-d.ai/role']}`)).toEqual([
      'm-kserve-0:decode',
      'm-kserve-1:decode',
      'm-kserve-prefill-0:prefill',
      'm-kserve-prefill-1:prefill',
    ])
    expect(stack.pickers[0]!.configSource).toBe('default (prefill/decode)')
  })

  it('takes an inline EndpointPickerConfig (YAML text)', () => {
    const stack = derive(
      isvc(`  router:
    scheduler:
      config:
        inline: |
          apiVersion: inference.networking.x-k8s.io/v1alpha1
          kind: EndpointPickerConfig
          plugins: [{type: queue-scorer}]
    route: {}
    gateway: {}`),
    )
    expect(stack.pickers[0]!.config).toMatchObject({ plugins: [{ type: 'queue-scorer' }] })
    expect(stack.modelServers[0]!.spec.simulator?.kvEvents).toBeUndefined()
  })

  it('a picker config with a precise prefix plugin makes the simulated replicas publish KV events', () => {
    const stack = derive(
      isvc(`  replicas: 2
  router:
    scheduler:
      config:
        inline:
          plugins: [{type: precise-prefix-cache-producer}, {type: prefix-cache-scorer}]
    route: {}
    gateway: {}`),
    )
    expect(stack.modelServers.map((m) => m.spec.simulator?.kvEvents?.endpoint)).toEqual(['tcp://*:5557', 'tcp://*:5557'])
  })

  it('without a scheduler only the catch-all rule exists and it goes to the Service', () => {
    const stack = derive(isvc('  router: {route: {}, gateway: {}}'))
    expect(stack.pools).toEqual([])
    expect(stack.routes[0]!.spec.rules.map((r) => r.backendRefs![0]!.kind)).toEqual(['Service'])
  })

  it('user-declared ModelServers with the workload labels replace the simulated replicas', () => {
    const stack = derive(
      isvc('  router: {scheduler: {}, route: {}, gateway: {}}') +
        `
---
apiVersion: maitred.dev/v1alpha1
kind: ModelServer
metadata:
  name: gpu-0
  namespace: ns
  labels: {app.kubernetes.io/part-of: llminferenceservice, app.kubernetes.io/name: m, kserve.io/component: workload}
spec:
  external: {url: "http://127.0.0.1:8000/"}`,
    )
    expect(stack.modelServers.map((m) => m.metadata.name)).toEqual(['gpu-0'])
    expect(stack.modelServers[0]!.spec.external?.url).toBe('http://127.0.0.1:8000')
  })

  it('a route to a missing gateway or backend is not accepted / not resolved, with reasons', () => {
    const stack = derive(`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: ns}
spec:
  parentRefs: [{name: nowhere}]
  rules: [{backendRefs: [{name: missing}]}]`)
    const [parent] = routeStatus(stack.routes[0]!, stack)
    expect(parent!.conditions).toMatchObject([
      { type: 'Accepted', status: 'False', reason: 'NoMatchingParent' },
      { type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound' },
    ])
  })
})

describe('deriveStack: a declared pool\'s EndpointPickerConfig', () => {
  const pool = (name: string, ref?: string) => `---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: ${name}, namespace: team}
spec:
  selector: {matchLabels: {app: m}}
  targetPorts: [{number: 8000}]
${ref ? `  endpointPickerRef: {name: ${ref}, port: {number: 9002}}\n` : ''}`
  const unnamed = `---
apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins: [{type: queue-scorer}]
`
  const named = (name: string) => `---
apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
metadata: {name: ${name}, namespace: team}
plugins: [{type: kv-cache-utilization-scorer}]
`
  const pickerOf = (text: string, poolName: string) => derive(text).pickers.find((p) => p.poolName === poolName)!

  it('is the one named by its endpointPickerRef, else the stack\'s one config without metadata (as an EPP reads its --config-file)', () => {
    const text = pool('a', 'a-epp') + pool('b', 'b-epp') + named('a-epp') + unnamed
    expect(pickerOf(text, 'a')).toMatchObject({ config: { plugins: [{ type: 'kv-cache-utilization-scorer' }] }, configSource: 'EndpointPickerConfig/team/a-epp' })
    expect(pickerOf(text, 'b')).toMatchObject({ config: { plugins: [{ type: 'queue-scorer' }] }, configSource: 'the EndpointPickerConfig without metadata' })
    expect(pickerOf(pool('c'), 'c')).toMatchObject({ config: undefined, configSource: 'default (no EndpointPickerConfig named c-epp)' })
  })

  it('refuses two configs without metadata, which no pool could tell apart', () => {
    const { resources, errors } = parseStackText(pool('a') + unnamed + unnamed, 'stack.yaml')
    expect(errors).toEqual([])
    expect(checkDuplicates(resources)).toEqual([
      { file: '(stack)', resource: 'EndpointPickerConfig/(unnamed)', path: 'metadata.name', message: expect.stringMatching(/more than one EndpointPickerConfig has no metadata/) },
    ])
  })
})
