import type { InferencePool } from '../config/inferencepool-schema.js'
import { REMOTE_PICKER_ANNOTATIONS } from '../config/remote-picker-annotations.js'
import type { RemotePickerRef } from './stack.js'

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
