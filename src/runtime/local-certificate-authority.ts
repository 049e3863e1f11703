import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { generate } from 'selfsigned'

export interface IssuedCertificate {
  cert: string
  key: string
  certFile: string
  keyFile: string
}

const YEAR_MS = 365 * 24 * 3600 * 1000

/**
 * maitred's own certificate authority, kept under the state directory (like OpenShift's service CA): it signs the
 * certificates of listeners whose Secret is not declared, so a client can trust them all through one `ca.crt`.
 * Certificates are generated once and reused across restarts (`curl --cacert ~/.maitred/pki/ca.crt` keeps working).
 */
export class LocalCertificateAuthority {
  private constructor(
    readonly dir: string,
    readonly cert: string,
    private readonly key: string,
  ) {}

  get certFile(): string {
    return join(this.dir, 'ca.crt')
  }

  static async open(dir: string): Promise<LocalCertificateAuthority> {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const certFile = join(dir, 'ca.crt')
    const keyFile = join(dir, 'ca.key')
    const existing = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]).catch(() => undefined)
    if (existing) return new LocalCertificateAuthority(dir, existing[0], existing[1])
    const now = Date.now()
    const pems = await generate([{ name: 'commonName', value: 'maitred local CA' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      notBeforeDate: new Date(now - 60_000),
      notAfterDate: new Date(now + 10 * YEAR_MS),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    })
    await writeFile(keyFile, pems.private, { mode: 0o600 })
    await writeFile(certFile, pems.cert)
    return new LocalCertificateAuthority(dir, pems.cert, pems.private)
  }

  /** A serving certificate for `hostnames` (DNS names or IPs), reused while the names stay the same. */
  async issue(name: string, hostnames: readonly string[]): Promise<IssuedCertificate> {
    const base = join(this.dir, 'issued', name.replaceAll('/', '_'))
    const certFile = `${base}.crt`
    const keyFile = `${base}.key`
    const wanted = [...new Set(hostnames)].sort().join(',')
    const existing = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8'), readFile(`${base}.names`, 'utf8')]).catch(() => undefined)
    if (existing && existing[2] === wanted) return { cert: existing[0], key: existing[1], certFile, keyFile }
    const now = Date.now()
    const pems = await generate([{ name: 'commonName', value: hostnames[0] ?? 'localhost' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      notBeforeDate: new Date(now - 60_000),
      notAfterDate: new Date(now + YEAR_MS),
      ca: { key: this.key, cert: this.cert },
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: hostnames.map((h) => (isIP(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h })) },
      ],
    })
    await mkdir(join(this.dir, 'issued'), { recursive: true, mode: 0o700 })
    await writeFile(keyFile, pems.private, { mode: 0o600 })
    await writeFile(certFile, pems.cert)
    await writeFile(`${base}.names`, wanted)
    return { cert: pems.cert, key: pems.private, certFile, keyFile }
  }
}
