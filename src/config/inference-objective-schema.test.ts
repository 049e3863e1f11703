import { describe, expect, it } from 'vitest'
import { deriveStack } from '../controller/derive-stack.js'
import { parseStackText } from './load-stack.js'

const pool = (annotations = '') => `
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata:
  name: pool
  namespace: team${annotations}
spec:
  selector: {matchLabels: {app: sim}}
  targetPorts: [{number: 8000}]
`

describe('InferenceObjective', () => {
  it('loads in both API groups and gives each pool its priorities (unset is 0)', () => {
    const { resources, errors } = parseStackText(
      `${pool()}---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: critical, namespace: team}
spec: {priority: 100, poolRef: {name: pool}}
---
apiVersion: llm-d.ai/v1alpha1
kind: InferenceObjective
metadata: {name: batch, namespace: team}
spec: {priority: -1, poolRef: {group: inference.networking.x-k8s.io, kind: InferencePool, name: pool}}
---
apiVersion: llm-d.ai/v1alpha1
kind: InferenceObjective
metadata: {name: plain, namespace: team}
spec: {poolRef: {name: pool}}
---
apiVersion: llm-d.ai/v1alpha1
kind: InferenceObjective
metadata: {name: elsewhere, namespace: other}
spec: {priority: 5, poolRef: {name: pool}}
`,
      'stack.yaml',
    )
    expect(errors).toEqual([])
    const stack = deriveStack(resources)
    expect(stack.objectives).toHaveLength(4)
    expect(stack.pickers[0]!.objectives).toEqual({ critical: 100, batch: -1, plain: 0 })
    expect(stack.pickers[0]!.remote).toBeUndefined()
  })

  it('names bad fields', () => {
    const { errors } = parseStackText(
      `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: bad, namespace: team}
spec: {priority: 1.5, criticality: Critical, poolRef: {kind: Service, name: pool}}
`,
      'bad.yaml',
    )
    expect(errors.map((e) => `${e.resource}: ${e.path}`).sort()).toEqual([
      'InferenceObjective/team/bad: spec.criticality',
      'InferenceObjective/team/bad: spec.poolRef.kind',
      'InferenceObjective/team/bad: spec.priority',
    ])
  })
})

describe('InferencePool served by a remote picker', () => {
  it('reads the address and TLS annotations', () => {
    const { resources } = parseStackText(
      pool(`
  annotations:
    maitred.dev/endpoint-picker-address: "127.0.0.1:9002"
    maitred.dev/endpoint-picker-ca-file: /etc/epp/ca.crt
    maitred.dev/endpoint-picker-server-name: epp.team.svc
    maitred.dev/endpoint-picker-insecure-skip-verify: "false"`),
      'stack.yaml',
    )
    expect(deriveStack(resources).pickers[0]!.remote).toEqual({ address: '127.0.0.1:9002', caFile: '/etc/epp/ca.crt', serverName: 'epp.team.svc', insecureSkipVerify: false })
  })
})
