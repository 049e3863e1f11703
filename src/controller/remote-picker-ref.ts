import type { InferencePool } from '../config/inferencepool-schema.js'
import type { RemotePickerRef } from './stack.js'

/** Pool annotations that point the gateway at an endpoint picker running elsewhere (e.g. `maitred picker`), over ext_proc. */
export const REMOTE_PICKER_ANNOTATIONS = {
  address: 'maitred.dev/endpoint-picker-address',
  caFile: 'maitred.dev/endpoint-picker-ca-file',
  serverName: 'maitred.dev/endpoint-picker-server-name',
  insecureSkipVerify: 'maitred.dev/endpoint-picker-insecure-skip-verify',
} as const

/** The pool's remote picker, or undefined for the in-process one. Any TLS annotation turns TLS on. */
export function remotePickerRef(pool: InferencePool): RemotePickerRef | undefined {
  const annotations = pool.metadata.annotations ?? {}
  const address = annotations[REMOTE_PICKER_ANNOTATIONS.address]
  if (!address) return undefined
  const caFile = annotations[REMOTE_PICKER_ANNOTATIONS.caFile]
  const serverName = annotations[REMOTE_PICKER_ANNOTATIONS.serverName]
  const insecure = annotations[REMOTE_PICKER_ANNOTATIONS.insecureSkipVerify]
  return {
    address,
    ...(caFile ? { caFile } : {}),
    ...(serverName ? { serverName } : {}),
    ...(insecure !== undefined ? { insecureSkipVerify: insecure.toLowerCase() === 'true' } : {}),
  }
}
