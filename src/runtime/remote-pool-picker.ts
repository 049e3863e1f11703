import { readFileSync } from 'node:fs'
import type { RemotePickerRef } from '../controller/stack.js'
import { PickerError, type EndpointPicker } from '../picker/endpoint-picker.js'
import { createRemotePicker } from '../picker/extproc/remote-picker.js'

/**
 * A pool's picker running elsewhere (annotation `maitred.dev/endpoint-picker-address`), asked over ext_proc as Envoy
 * would. A picker that cannot be reached is not a decision: its `picker_unavailable` error is turned into a plain failure,
 * so the gateway applies the pool's failureMode (FailOpen: a random endpoint; FailClose: 503), as Envoy's
 * `failure_mode_allow` does. The picker's own refusals (400/429/503) still reach the client as they are.
 */
export function createRemotePoolPicker(remote: RemotePickerRef): EndpointPicker {
  const picker = createRemotePicker({ target: remote.address, ...remoteTls(remote) })
  return {
    pick: (request, options) =>
      picker.pick(request, options).catch((err: unknown) => {
        if (err instanceof PickerError && err.code === 'picker_unavailable') throw new Error(err.message)
        throw err
      }),
    complete: (outcome) => picker.complete(outcome),
    setEndpoints: (endpoints) => picker.setEndpoints(endpoints),
    endpointStates: () => picker.endpointStates(),
    close: () => picker.close(),
  }
}

/** TLS when any TLS annotation is set; the CA file is read when the picker is (re)created. */
function remoteTls(remote: RemotePickerRef): { tls?: { ca?: string; serverName?: string; insecureSkipVerify?: boolean } } {
  if (remote.caFile === undefined && remote.serverName === undefined && remote.insecureSkipVerify === undefined) return {}
  return {
    tls: {
      ...(remote.caFile ? { ca: readFileSync(remote.caFile, 'utf8') } : {}),
      ...(remote.serverName ? { serverName: remote.serverName } : {}),
      ...(remote.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
    },
  }
}
