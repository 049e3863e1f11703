import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import type { EndpointRef } from '../picker/endpoint.js'
import { createRemotePicker } from '../picker/extproc/remote-picker.js'
import { createScriptedPicker } from '../picker/extproc/test-support/scripted-picker.js'
import { parseEndpointList, registerPickerCommand } from './picker.js'

function program(createPicker: Parameters<typeof registerPickerCommand>[1]['createPicker'], signal: AbortSignal, lines: string[]): Command {
  const root = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} })
  registerPickerCommand(root, { createPicker, shutdownSignal: signal, log: (line) => lines.push(line) })
  root.commands.forEach((command) => command.exitOverride())
  return root
}

describe('maitred picker', () => {
  it('runs the ext_proc server (TLS by default, as the EPP) over the given endpoints and config until stopped', async () => {
    const stop = new AbortController()
    const lines: string[] = []
    let seen: { config: unknown; endpoints: EndpointRef[] } | undefined
    const cli = program((config, endpoints) => {
      seen = { config, endpoints }
      return createScriptedPicker(endpoints)
    }, stop.signal, lines)
    const yaml = 'apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\nplugins:\n- type: queue-scorer\n'
    const running = cli.parseAsync(['picker', '--config-text', yaml, '--endpoints', '127.0.0.1:8001, [::1]:8002', '--grpc-port', '0', '--grpc-health-port', '0', '--metrics-port', '0'], { from: 'user' })
    await expect.poll(() => lines.length, { timeout: 20_000 }).toBeGreaterThan(0)
    expect(seen?.config).toEqual({ apiVersion: 'inference.networking.x-k8s.io/v1alpha1', kind: 'EndpointPickerConfig', plugins: [{ type: 'queue-scorer' }] })
    expect(seen?.endpoints.map((endpoint) => endpoint.address)).toEqual(['127.0.0.1:8001', '[::1]:8002'])
    expect(lines[0]).toContain('tls, self-signed')

    const grpcPort = /ext_proc on 127\.0\.0\.1:(\d+)/.exec(lines[0] ?? '')?.[1]
    const remote = createRemotePicker({ target: `127.0.0.1:${grpcPort}`, tls: { insecureSkipVerify: true } })
    const decision = await remote.pick({ requestId: 'cli-1', path: '/v1/completions', headers: {}, body: { model: 'm', prompt: 'x' } })
    expect(decision.endpoint.address).toBe('127.0.0.1:8001')
    await remote.close()

    const metricsPort = /metrics on http:\/\/127\.0\.0\.1:(\d+)/.exec(lines[0] ?? '')?.[1]
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(200)
    stop.abort()
    await running
    expect(lines.at(-1)).toBe('endpoint picker: shutting down')
  })

  it('accepts --secure-serving=false and rejects bad flags', async () => {
    const stop = new AbortController()
    stop.abort()
    const lines: string[] = []
    const create = (_config: unknown, endpoints: EndpointRef[]) => createScriptedPicker(endpoints)
    await program(create, stop.signal, lines).parseAsync(['picker', '--endpoints', '127.0.0.1:8001', '--secure-serving=false', '--grpc-port', '0', '--grpc-health-port', '0', '--metrics-port', '0', '--body-mode', 'BUFFERED'], { from: 'user' })
    expect(lines[0]).toContain('(plaintext, BUFFERED)')

    await expect(program(create, stop.signal, []).parseAsync(['picker', '--endpoints', 'nohost'], { from: 'user' })).rejects.toThrow(/not host:port/)
    await expect(program(create, stop.signal, []).parseAsync(['picker', '--endpoints', '127.0.0.1:1', '--body-mode', 'STREAMED'], { from: 'user' })).rejects.toThrow(/body-mode/)
    await expect(program(create, stop.signal, []).parseAsync(['picker', '--endpoints', '127.0.0.1:1', '--config-file', 'a.yaml', '--config-text', 'x: 1'], { from: 'user' })).rejects.toThrow(/cannot be used with/)
    await expect(program(create, stop.signal, []).parseAsync(['picker', '--endpoints', '127.0.0.1:1', '--config-text', 'a: [1', '--grpc-port', '0'], { from: 'user' })).rejects.toThrow(/--config-text: not valid YAML/)
    await expect(program(create, stop.signal, []).parseAsync(['picker', '--grpc-port', '0'], { from: 'user' })).rejects.toThrow(/--endpoints host:port,… or take a pool from a stack with -f STACK --pool NAME/)
    await expect(program(create, stop.signal, []).parseAsync(['picker', '--endpoints', '127.0.0.1:1', '-f', 'stack.yaml'], { from: 'user' })).rejects.toThrow(/cannot be used with/)
    await expect(program(create, stop.signal, []).parseAsync(['picker', '-f', 'stack.yaml'], { from: 'user' })).rejects.toThrow(/-f needs --pool/)
  })

  it('names endpoints after their address', () => {
    expect(parseEndpointList('10.0.0.1:8000')).toEqual([{ id: 'default/10-0-0-1-8000', name: '10-0-0-1-8000', namespace: 'default', address: '10.0.0.1:8000', url: 'http://10.0.0.1:8000', labels: {} }])
  })
})
