import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import type { ModelServer } from '../../config/model-server-schema.js'
import { fail, pass, ref, type DoctorCheck, type Finding } from '../check.js'

/** Error codes (and messages) of a TLS handshake that did not verify, as the picker's scrape reports them. */
const TLS_FAILURE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|TLS|SSL|certificate/i

const NEXT =
  "give the ModelServer's spec.tls.caFile the CA that signed the server's certificate (and spec.tls.serverName a name in it), or serve a certificate that CA signed"

/** Why a server's certificate will not verify with its ModelServer's TLS settings, or undefined when it will. */
function staticTlsProblem(ms: ModelServer): string | undefined {
  const certFile = ms.spec.simulator?.tlsCertFile
  const tls = ms.spec.tls
  if (!certFile || tls?.insecureSkipVerify) return undefined
  let cert: X509Certificate
  try {
    cert = new X509Certificate(readFileSync(certFile))
  } catch (err) {
    return `spec.simulator.tlsCertFile ${certFile}: ${(err as Error).message}`
  }
  if (!tls?.caFile) return cert.checkIssued(cert) ? 'the server certificate is self-signed and spec.tls.caFile is not set: the system trust store will not verify it' : undefined
  let ca: X509Certificate
  try {
    ca = new X509Certificate(readFileSync(tls.caFile))
  } catch (err) {
    return `spec.tls.caFile ${tls.caFile}: ${(err as Error).message}`
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return `the server certificate (issuer ${cert.issuer.replace(/\n/g, ', ')}) is not signed by the CA in spec.tls.caFile ${tls.caFile} (fingerprint ${ca.fingerprint256.slice(0, 17)}…)`
  const name = tls.serverName ?? ms.spec.simulator?.host ?? '127.0.0.1'
  const matches = isIP(name) ? cert.checkIP(name) : cert.checkHost(name)
  if (!matches) return `the server certificate does not name ${name} (${cert.subjectAltName ?? cert.subject})`
  return undefined
}

export const upstreamTls: DoctorCheck = {
  id: 'upstream-tls',
  title: 'TLS to the model servers verifies',
  seeds: "seeds' check 9 (bug 3: CERTIFICATE_VERIFY_FAILED)",
  symptom: 'the picker connects but every connection fails (cx_connect_fail = cx_total); requests answer 503',
  cause: 'a server presents a certificate the gateway and the picker do not trust (self-signed, or signed by another CA, or for another name)',
  fix: 'serve a certificate signed by the CA the ModelServer names in spec.tls.caFile, for the name in spec.tls.serverName',
  live({ status }) {
    const findings: Finding[] = []
    for (const e of status.endpoints) {
      const subject = `endpoint ${e.id}`
      if (e.lastError && TLS_FAILURE.test(e.lastError)) findings.push(fail(subject, `the TLS handshake to ${e.url} does not verify: ${e.lastError}`, NEXT))
      else if (e.url.startsWith('https:') && e.healthy) findings.push(pass(subject, `${e.url}: certificate verified (scraped over TLS)`))
    }
    if (findings.length === 0) findings.push(pass('endpoints', 'no TLS upstream: every model server is plain HTTP on this machine'))
    return findings
  },
  static({ stack }) {
    const findings: Finding[] = []
    for (const ms of stack.modelServers) {
      if (!ms.spec.simulator?.tlsCertFile && !ms.spec.external?.url.startsWith('https:')) continue
      const subject = ref('ModelServer', ms.metadata.namespace, ms.metadata.name)
      const problem = staticTlsProblem(ms)
      findings.push(problem ? fail(subject, problem, NEXT) : pass(subject, ms.spec.tls?.insecureSkipVerify ? 'TLS without verification (insecureSkipVerify)' : 'its certificate verifies with spec.tls'))
    }
    if (findings.length === 0) findings.push(pass('ModelServers', 'none serves TLS'))
    return findings
  },
}
