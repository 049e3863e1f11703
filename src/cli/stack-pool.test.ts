import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadStackPool } from './stack-pool.js'

const POOL = (ns: string, name: string, app: string) => `
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {matchLabels: {app: ${app}}}
  targetPorts: [{number: 8000}]
  endpointPickerRef: {name: ${name}-epp, port: {number: 9002}}
`

describe('loadStackPool: one pool of a stack file, for pickers outside maitred up', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'maitred-stack-pool-'))
    await writeFile(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n')
    await writeFile(
      join(dir, 'stack.yaml'),
      [
        POOL('a', 'gpus', 'vllm'),
        POOL('b', 'gpus', 'vllm'),
        POOL('a', 'sims', 'sim'),
        `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
metadata: {name: gpus-epp, namespace: a}
plugins: [{type: queue-scorer}]`,
        `apiVersion: maitred.dev/v1alpha1
kind: ModelServer
metadata: {name: gpu-0, namespace: a, labels: {app: vllm}}
spec:
  external: {url: "https://10.0.0.5:8000/"}
  tls: {caFile: ${join(dir, 'ca.pem')}, serverName: vllm.a.svc}`,
        `apiVersion: maitred.dev/v1alpha1
kind: ModelServer
metadata: {name: gpu-1, namespace: a, labels: {app: vllm}}
spec: {external: {url: "http://10.0.0.6:8000"}}`,
        `apiVersion: maitred.dev/v1alpha1
kind: ModelServer
metadata: {name: sim-0, namespace: a, labels: {app: sim}}
spec: {simulator: {}}`,
        `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: batch, namespace: a}
spec: {priority: -5, poolRef: {name: gpus}}`,
        `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: other-pool, namespace: a}
spec: {priority: 3, poolRef: {name: sims}}`,
      ].join('\n---\n'),
    )
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('takes the config, the external endpoints (with their TLS) and the objectives of the pool', async () => {
    const pool = await loadStackPool([join(dir, 'stack.yaml')], 'a/gpus')
    expect(pool.pool).toBe('a/gpus')
    expect(pool.config).toMatchObject({ plugins: [{ type: 'queue-scorer' }] })
    expect(pool.configSource).toBe('EndpointPickerConfig/a/gpus-epp')
    expect(pool.objectives).toEqual({ batch: -5 })
    expect(pool.endpoints.map((e) => [e.id, e.address, e.url])).toEqual([
      ['a/gpu-0', '10.0.0.5:8000', 'https://10.0.0.5:8000'],
      ['a/gpu-1', '10.0.0.6:8000', 'http://10.0.0.6:8000'],
    ])
    expect(pool.endpoints[0]!.tls).toEqual({ ca: expect.stringContaining('BEGIN CERTIFICATE'), serverName: 'vllm.a.svc', insecureSkipVerify: false })
    expect(pool.endpoints[0]!.labels).toEqual({ app: 'vllm' })
  })

  it('says why a pool cannot be served from the file', async () => {
    const file = [join(dir, 'stack.yaml')]
    await expect(loadStackPool(file, 'gpus')).rejects.toThrow('InferencePool gpus is ambiguous, name it NAMESPACE/NAME (pools: a/gpus, b/gpus, a/sims)')
    await expect(loadStackPool(file, 'a/nope')).rejects.toThrow('no InferencePool a/nope in the stack')
    await expect(loadStackPool(file, 'a/sims')).rejects.toThrow(/selects simulated ModelServers \(sim-0\), which run only under `maitred up`/)
    await expect(loadStackPool(file, 'b/gpus')).rejects.toThrow('InferencePool b/gpus selects no ModelServers')
  })
})
