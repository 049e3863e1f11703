import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { EndpointPicker, PickRequest } from '../endpoint-picker.js'
import { createRemotePicker } from './remote-picker.js'
import { type CertificatePair, generateSelfSignedCertificate } from './self-signed-certificate.js'
import { type ExtProcServer, startExtProcServer } from './start-extproc-server.js'
import { createScriptedPicker, testEndpoint } from './test-support/scripted-picker.js'

const request: PickRequest = { requestId: 'tls-1', path: '/v1/completions', headers: {}, body: { model: 'm', prompt: 'p' } }

describe('TLS on the ext_proc port (--secure-serving, --cert-path)', () => {
  let directory: string
  let localhost: CertificatePair
  let otherName: CertificatePair
  let server: ExtProcServer | undefined
  const remotes: EndpointPicker[] = []
  const remote = (...args: Parameters<typeof createRemotePicker>) => {
    const picker = createRemotePicker({ timeoutMs: 3_000, ...args[0] })
    remotes.push(picker)
    return picker
  }

  beforeAll(async () => {
    directory = await fs.mkdtemp(path.join(os.tmpdir(), 'maitred-extproc-tls-'))
    localhost = await generateSelfSignedCertificate()
    otherName = await generateSelfSignedCertificate(['epp.pool.svc'])
  })
  afterAll(() => fs.rm(directory, { recursive: true, force: true }))
  afterEach(async () => {
    await Promise.all(remotes.splice(0).map((picker) => picker.close()))
    await server?.close()
    server = undefined
  })
  const serveFrom = async (pair: CertificatePair) => {
    const certPath = await fs.mkdtemp(path.join(directory, 'certs-'))
    await fs.writeFile(path.join(certPath, 'tls.crt'), pair.cert)
    await fs.writeFile(path.join(certPath, 'tls.key'), pair.key)
    server = await startExtProcServer({ picker: createScriptedPicker([testEndpoint(8001)]), grpcPort: 0, healthPort: 0, secureServing: true, certPath })
    return `127.0.0.1:${server.grpcPort}`
  }

  it('serves the certificate from --cert-path: trusted with its CA, refused without it or in plaintext', async () => {
    const target = await serveFrom(localhost)
    expect((await remote({ target, tls: { ca: localhost.cert } }).pick(request)).endpoint.address).toBe('127.0.0.1:8001')
    await expect(remote({ target, tls: { ca: otherName.cert } }).pick(request)).rejects.toMatchObject({ status: 503, code: 'picker_unavailable' })
    await expect(remote({ target }).pick(request)).rejects.toMatchObject({ status: 503, code: 'picker_unavailable' })
  })

  it('verifies the server name, which serverName overrides (the service DNS name of an in-cluster EPP)', async () => {
    const target = await serveFrom(otherName)
    await expect(remote({ target, tls: { ca: otherName.cert } }).pick(request)).rejects.toMatchObject({ code: 'picker_unavailable' })
    expect((await remote({ target, tls: { ca: otherName.cert, serverName: 'epp.pool.svc' } }).pick(request)).endpoint.address).toBe('127.0.0.1:8001')
  })

  it('generates a self-signed certificate when no --cert-path is given', async () => {
    server = await startExtProcServer({ picker: createScriptedPicker([testEndpoint(8002)]), grpcPort: 0, healthPort: 0, secureServing: true })
    const target = `127.0.0.1:${server.grpcPort}`
    expect((await remote({ target, tls: { insecureSkipVerify: true } }).pick(request)).endpoint.address).toBe('127.0.0.1:8002')
    await expect(remote({ target, tls: { ca: localhost.cert } }).pick(request)).rejects.toMatchObject({ code: 'picker_unavailable' })
  })

  it('refuses bad TLS settings with a clear error', async () => {
    const picker = createScriptedPicker([])
    await expect(startExtProcServer({ picker, grpcPort: 0, healthPort: 0, secureServing: true, certPath: path.join(directory, 'missing') })).rejects.toThrow(/cannot read tls\.crt/)
    await expect(startExtProcServer({ picker, grpcPort: 0, healthPort: 0, certPath: directory })).rejects.toThrow(/--cert-path needs --secure-serving/)
  })
})
