import { readFile } from 'node:fs/promises'
import type { Gateway, GatewayListener } from '../config/gateway-schema.js'
import type { Stack } from '../controller/stack.js'
import type { LocalCertificateAuthority } from './local-certificate-authority.js'

export interface ListenerCertificate {
  cert: string
  key: string
  /** Where it came from, for status output. */
  source: string
  /** Files to watch for rotation (empty for Secrets, which change through `apply`). */
  files: string[]
}

export const CERT_FILE_OPTION = 'maitred.dev/cert-file'
export const KEY_FILE_OPTION = 'maitred.dev/key-file'

/**
 * An HTTPS listener's certificate: PEM files named in `tls.options` (watched, reloaded on change), else the
 * kubernetes.io/tls Secret its `certificateRefs` names, else — when that Secret is not declared, as with OpenShift's
 * generated `default-gateway-tls` — one issued by maitred's local CA for the listener's hostname and localhost.
 */
export async function resolveListenerCertificate(
  gateway: Gateway,
  listener: GatewayListener,
  stack: Stack,
  ca: () => Promise<LocalCertificateAuthority>,
): Promise<ListenerCertificate> {
  const where = `Gateway ${gateway.metadata.namespace}/${gateway.metadata.name} listener ${listener.name}`
  const certFile = listener.tls?.options?.[CERT_FILE_OPTION]
  const keyFile = listener.tls?.options?.[KEY_FILE_OPTION]
  if (certFile || keyFile) {
    if (!certFile || !keyFile) throw new Error(`${where}: tls.options needs both ${CERT_FILE_OPTION} and ${KEY_FILE_OPTION}`)
    const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]).catch((err: Error) => {
      throw new Error(`${where}: cannot read certificate files: ${err.message}`)
    })
    return { cert, key, source: `files ${certFile}, ${keyFile}`, files: [certFile, keyFile] }
  }
  const ref = listener.tls?.certificateRefs?.[0]
  if (!ref) throw new Error(`${where}: an HTTPS listener needs tls.certificateRefs or tls.options ${CERT_FILE_OPTION}/${KEY_FILE_OPTION}`)
  const namespace = ref.namespace ?? gateway.metadata.namespace
  const secret = stack.secrets.find((s) => s.metadata.name === ref.name && s.metadata.namespace === namespace)
  if (secret?.type === 'Opaque') throw new Error(`${where}: Secret ${namespace}/${ref.name} is Opaque; a listener certificate needs type kubernetes.io/tls`)
  if (secret) return { ...secret.tls, source: `Secret ${namespace}/${ref.name}`, files: [] }
  const authority = await ca()
  const hostnames = [...(listener.hostname ? [listener.hostname] : []), 'localhost', '127.0.0.1', '::1']
  const issued = await authority.issue(`${namespace}/${ref.name}`, hostnames)
  return { cert: issued.cert, key: issued.key, source: `generated (Secret ${namespace}/${ref.name} not declared), signed by ${authority.certFile}`, files: [] }
}
