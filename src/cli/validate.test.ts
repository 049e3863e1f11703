import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { SPEC_CONFIGS } from '../picker/framework/testdata/spec-configs.js'
import { createPicker } from './create-picker.js'
import { registerPickerCommand } from './picker.js'
import { registerValidateCommand } from './validate.js'

const HEADER = 'apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\n'

const BROKEN: Record<string, string> = {
  'unknown plugin type': `${HEADER}plugins:\n- type: queue-scorer\n- type: no-such-scorer\n`,
  'dangling pluginRef': `${HEADER}plugins:\n- type: queue-scorer\nschedulingProfiles:\n- name: default\n  plugins:\n  - pluginRef: queue-scorer\n  - pluginRef: missing\n`,
  'unknown type and dangling pluginRef at once': `${HEADER}plugins:\n- type: no-such-scorer\n- type: queue-scorer\nschedulingProfiles:\n- name: default\n  plugins:\n  - pluginRef: gone\n`,
  'bad parameter': `${HEADER}plugins:\n- type: pd-profile-handler\n  parameters: {threshold: -1}\n- type: prefill-filter\n- type: decode-filter\n`,
  'unknown field and bad apiVersion': `apiVersion: llm-d.ai/v9\nkind: EndpointPickerConfig\ncolour: red\nplugins:\n- type: queue-scorer\n`,
  'no plugins': `${HEADER}schedulingProfiles: []\n`,
}

const GOOD: Record<string, string> = {
  ...Object.fromEntries(Object.entries(SPEC_CONFIGS).map(([name, text]) => [name, text.includes('kind:') ? text : HEADER + text])),
  'named, as in a stack': `${HEADER}metadata: {name: my-epp, namespace: team}\nplugins:\n- type: queue-scorer\n`,
}

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'maitred-validate-'))
})
afterEach(() => {
  vi.restoreAllMocks()
  process.exitCode = undefined
})

async function fileWith(text: string): Promise<string> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.yaml`)
  await writeFile(file, text)
  return file
}

/** `maitred validate -f FILE`: the problems it prints, as `path: message` (location stripped), or [] when valid. */
async function validateProblems(file: string): Promise<string[]> {
  const lines: string[] = []
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (lines.push(String(chunk)), true))
  const program = new Command().exitOverride()
  registerValidateCommand(program)
  await program.parseAsync(['validate', '-f', file], { from: 'user' })
  vi.restoreAllMocks()
  const prefix = `${file}:`
  return lines
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.trim().replace(/^[^ ]+ EndpointPickerConfig\/\S+: /, ''))
    .map((l) => (l.includes(': ') ? l : `(root): ${l}`))
    .sort()
}

/** `maitred picker --config-file FILE`: the problems it refuses the config with, or [] when it starts. */
async function pickerProblems(file: string): Promise<string[]> {
  const stop = new AbortController()
  stop.abort()
  const program = new Command().exitOverride()
  registerPickerCommand(program, { createPicker, shutdownSignal: stop.signal, log: () => {} })
  const ports = ['--grpc-port', '0', '--grpc-health-port', '0', '--metrics-port', '0', '--secure-serving=false']
  try {
    await program.parseAsync(['picker', '--config-file', file, '--endpoints', '127.0.0.1:1', ...ports], { from: 'user' })
    return []
  } catch (err) {
    const message = (err as Error).message
    expect(message).toMatch(/^invalid EndpointPickerConfig:\n {2}/)
    return message.split('\n  ').slice(1).sort()
  }
}

describe('maitred validate and maitred picker --config-file agree', () => {
  it.each(Object.entries(GOOD))('both accept %s', async (_name, text) => {
    const file = await fileWith(text)
    expect(await pickerProblems(file)).toEqual([])
    expect(await validateProblems(file)).toEqual([])
    expect(process.exitCode).toBeUndefined()
  })

  it.each(Object.entries(BROKEN))('both report the same problems for %s', async (_name, text) => {
    const file = await fileWith(text)
    const fromPicker = await pickerProblems(file)
    expect(fromPicker.length).toBeGreaterThan(0)
    expect(await validateProblems(file)).toEqual(fromPicker)
    expect(process.exitCode).toBe(1)
  })

  it('names the plugin and the field for an unknown type and a dangling pluginRef in one file', async () => {
    const problems = await validateProblems(await fileWith(BROKEN['unknown type and dangling pluginRef at once']!))
    expect(problems).toEqual([expect.stringMatching(/^plugins\[0\]\.type: .*no-such-scorer/), expect.stringMatching(/^schedulingProfiles\[0\]\.plugins\[0\]\.pluginRef: .*gone/)])
  })
})
