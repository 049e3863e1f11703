import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveSettings } from './bench-settings.js'

describe('bench settings', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'maitred-bench-settings-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('defaults as GuideLLM: a sweep of 10, synthetic 256 → 128 tokens, chat', () => {
    expect(resolveSettings({}, undefined)).toMatchObject({ profile: 'sweep', sweepSize: 10, data: 'prompt_tokens=256,output_tokens=128', endpoint: 'chat', warmup: 0, seed: 42 })
  })

  it('takes a --workload file under the flags', async () => {
    const file = join(dir, 'w.yaml')
    await writeFile(file, 'profile: concurrent\nconcurrency: 4\nmaxRequests: 100\nseed: 1\n')
    expect(resolveSettings({ concurrency: '8', maxRequests: undefined }, file)).toMatchObject({ profile: 'concurrent', concurrency: 8, maxRequests: 100, seed: 1 })
  })

  it('names the file and the key of a bad setting, and the flag of a bad flag', async () => {
    const file = join(dir, 'bad.yaml')
    await writeFile(file, 'profile: bursty\n')
    expect(() => resolveSettings({}, file)).toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: profile:`))
    expect(() => resolveSettings({ rate: '-2' }, undefined)).toThrow(/^rate:/)
    expect(() => resolveSettings({}, join(dir, 'missing.yaml'))).toThrow(/ENOENT/)
  })
})
