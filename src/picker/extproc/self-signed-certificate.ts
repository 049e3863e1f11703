import { isIP } from 'node:net'
import { generate } from 'selfsigned'

export interface CertificatePair {
  /** PEM certificate. */
  readonly cert: string
  /** PEM private key. */
  readonly key: string
}

/**
 * A self-signed serving certificate, what the EPP generates when `--secure-serving` is on and no `--cert-path` is given.
 * Node 20 cannot create X.509 certificates itself; `selfsigned` (maintained, pure JS on WebCrypto via @peculiar/x509, no
 * native build and no dependency on an `openssl` binary being installed) can. EC P-256 keeps generation in milliseconds.
 */
export async function generateSelfSignedCertificate(
  hosts: readonly string[] = ['localhost', '127.0.0.1', '::1'],
  commonName = 'maitred-endpoint-picker',
): Promise<CertificatePair> {
  const notBeforeDate = new Date(Date.now() - 60_000)
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: hosts.map((host) => (isIP(host) ? { type: 7 as const, ip: host } : { type: 2 as const, value: host })) },
    ],
  })
  return { cert: pems.cert, key: pems.private }
}
