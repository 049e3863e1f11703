import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { toOptions } from './sim.js'

const BIN = fileURLToPath(new URL('../../bin/maitred.js', import.meta.url))

describe('maitred sim', () => {
  it('merges --options-json with explicit flags, flags winning', () => {
    expect(
      toOptions({ optionsJson: { maxNumSeqs: 4, role: 'prefill', port: 0 }, role: 'decode', enablePrefixCaching: false, kvCacheSize: 100 }),
    ).toEqual({ maxNumSeqs: 4, role: 'decode', port: 0, enablePrefixCaching: false, numGpuBlocks: 100 })
  })

  it("maps vLLM's --kv-events-config and the single KV events flags", () => {
    const vllm = { enable_kv_cache_events: true, publisher: 'zmq', endpoint: 'tcp://*:6000', replay_endpoint: 'tcp://*:6001', topic: 'kv@pod@m' }
    expect(toOptions({ kvEventsConfig: vllm, dataParallelRank: 1 })).toEqual({
      kvEvents: { endpoint: 'tcp://*:6000', replayEndpoint: 'tcp://*:6001', topic: 'kv@pod@m', dataParallelRank: 1 },
    })
    expect(toOptions({ kvEventsConfig: { ...vllm, enable_kv_cache_events: false } })).toEqual({})
    expect(toOptions({ kvEvents: true })).toEqual({ kvEvents: {} })
    expect(toOptions({ optionsJson: { kvEvents: { mapFormat: true } }, kvEventsEndpoint: 'tcp://127.0.0.1:*' })).toEqual({
      kvEvents: { mapFormat: true, endpoint: 'tcp://127.0.0.1:*' },
    })
    expect(() => toOptions({ kvEventsConfig: { enable_kv_cache_events: true, publisher: 'null' } })).toThrow(/only "zmq"/)
  })

  it('runs as a child process: reports ready over IPC, serves, and exits 0 on SIGTERM', async () => {
    const child = fork(BIN, ['sim', '--options-json', '{"maxNumSeqs":4,"port":0}', '--time-scale', '10', '--served-model-name', 'a', 'b'], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    let stdout = ''
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()))
    const ready = await new Promise<{ type: string; port: number; url: string }>((resolve, reject) => {
      child.once('message', (m) => resolve(m as { type: string; port: number; url: string }))
      child.once('exit', (code) => reject(new Error(`exited ${code}`)))
    })
    expect(ready.type).toBe('ready')
    expect(ready.url).toBe(`http://127.0.0.1:${ready.port}`)
    const models = (await (await fetch(`${ready.url}/v1/models`)).json()) as { data: { id: string }[] }
    expect(models.data.map((m) => m.id)).toEqual(['a', 'b'])
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(stdout).toContain(ready.url)
  })

  it('refuses bad options with the field path', async () => {
    const child = fork(BIN, ['sim', '--port', '0', '--max-num-seqs', '0'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    expect(code).not.toBe(0)
    expect(stderr).toContain('maxNumSeqs')
  })
})
