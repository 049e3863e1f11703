import { describe, expect, it } from 'vitest'
import { deriveStack } from '../controller/derive-stack.js'
import { formatConfigError } from './config-error.js'
import { parseStackText } from './load-stack.js'

/** A v1 pool (or the legacy v1alpha2 shape) with these annotations; the first annotation is on line 7. */
const pool = (annotations: string, legacy = false) =>
  legacy
    ? `apiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferencePool\nmetadata:\n  name: p\n  namespace: team\n  annotations:\n${annotations}spec:\n  selector: {app: m}\n  targetPortNumber: 8000\n`
    : `apiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\nmetadata:\n  name: p\n  namespace: team\n  annotations:\n${annotations}spec:\n  selector: {matchLabels: {app: m}}\n  targetPorts: [{number: 8000}]\n`
const messages = (text: string) => parseStackText(text, 'stack.yaml').errors.map(formatConfigError)
const at = 'stack.yaml:7: InferencePool/team/p: metadata.annotations.maitred.dev/endpoint-picker-'

describe('remote picker annotations are checked when the config loads', () => {
  it('accepts an address with its TLS companions, and the pool is picked for remotely', () => {
    const text = pool('    maitred.dev/endpoint-picker-address: "epp.team.svc:9002"\n    maitred.dev/endpoint-picker-server-name: epp.team.svc\n    maitred.dev/endpoint-picker-ca-file: /etc/epp/ca.crt\n    maitred.dev/endpoint-picker-insecure-skip-verify: "false"\n')
    const { resources, errors } = parseStackText(text, 'stack.yaml')
    expect(errors).toEqual([])
    expect(deriveStack(resources).pickers[0]!.remote).toEqual({ address: 'epp.team.svc:9002', caFile: '/etc/epp/ca.crt', serverName: 'epp.team.svc', insecureSkipVerify: false })
    expect(messages(pool('    maitred.dev/endpoint-picker-address: "[::1]:9002"\n', true))).toEqual([])
  })

  it.each([
    ['a misspelt name', '    maitred.dev/endpoint-picker-adress: "127.0.0.1:9002"\n', 'adress: unknown annotation; known: maitred.dev/endpoint-picker-address, '],
    ['an address without a port', '    maitred.dev/endpoint-picker-address: "127.0.0.1"\n', 'address: "127.0.0.1" is not host:port'],
    ['a port out of range', '    maitred.dev/endpoint-picker-address: "epp:70000"\n', 'address: "epp:70000" is not host:port'],
    ['a URL for an address', '    maitred.dev/endpoint-picker-address: "http://epp:9002"\n', 'address: "http://epp:9002" is not host:port'],
    ['a TLS setting without an address', '    maitred.dev/endpoint-picker-ca-file: /ca.crt\n', 'ca-file: applies only with maitred.dev/endpoint-picker-address'],
    ['a boolean that is not one', '    maitred.dev/endpoint-picker-address: "epp:9002"\n    maitred.dev/endpoint-picker-insecure-skip-verify: "yes"\n', 'insecure-skip-verify: must be "true" or "false", not "yes"'],
    ['a server name with a port', '    maitred.dev/endpoint-picker-address: "epp:9002"\n    maitred.dev/endpoint-picker-server-name: "epp:9002"\n', 'server-name: "epp:9002" is not a DNS name'],
  ])('refuses %s, naming the file, line, pool and annotation', (_what, annotations, error) => {
    for (const legacy of [false, true]) {
      const [message, ...more] = messages(pool(annotations, legacy))
      expect(more).toEqual([])
      const line = annotations.split('\n').findIndex((l) => l.includes(error.split(':')[0]!))
      expect(message).toContain(at.replace(':7:', `:${7 + line}:`) + error)
    }
  })
})
