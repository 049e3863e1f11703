import fs from 'node:fs/promises'
import path from 'node:path'
import * as grpc from '@grpc/grpc-js'

export interface ServingTlsOptions {
  /** GIE `--secure-serving`: serve gRPC over TLS. */
  secureServing?: boolean
  /** GIE `--cert-path`: a directory holding `tls.crt` and `tls.key` (a mounted kubernetes.io/tls Secret). */
  certPath?: string
}

/**
 * Credentials for the ext_proc port, as the EPP chooses them: plaintext unless secure serving; with secure serving, the
 * certificate from `--cert-path` when given (the seed's bug 3: without it the EPP served a self-signed certificate the
 * gateway's DestinationRule rejected), else a freshly generated self-signed one.
 */
export async function serverCredentials(options: ServingTlsOptions): Promise<grpc.ServerCredentials> {
  if (!options.secureServing) {
    if (options.certPath) throw new Error('--cert-path needs --secure-serving')
    return grpc.ServerCredentials.createInsecure()
  }
  // Loaded on demand: the certificate library is only needed when no certificate is given.
  const pair = options.certPath
    ? await readCertificateDirectory(options.certPath)
    : await (await import('./self-signed-certificate.js')).generateSelfSignedCertificate()
  return grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(pair.cert), private_key: Buffer.from(pair.key) }], false)
}

async function readCertificateDirectory(directory: string): Promise<{ cert: string; key: string }> {
  const read = async (name: string) => {
    const file = path.join(directory, name)
    try {
      return await fs.readFile(file, 'utf8')
    } catch (error) {
      throw new Error(`--cert-path ${directory}: cannot read ${name} (${(error as NodeJS.ErrnoException).code ?? String(error)})`)
    }
  }
  return { cert: await read('tls.crt'), key: await read('tls.key') }
}
