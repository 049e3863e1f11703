import { readFileSync } from 'node:fs'
import { request } from 'undici'
import type { RemotePickerRef } from '../controller/stack.js'
import { EndpointStore } from '../picker/datalayer/endpoint-store.js'
import { PickerError, type EndpointPicker } from '../picker/endpoint-picker.js'
import { createRemotePicker } from '../picker/extproc/remote-picker.js'

/** How often the gateway scrapes a remote pool's endpoints for `maitred get endpoints` (it picks with none of it). */
const VIEW_INTERVAL_MS = 1_000

/**
 * A pool's picker running elsewhere (annotation `maitred.dev/endpoint-picker-address`), asked over ext_proc as Envoy
 * would. A picker that cannot be reached is not a decision: its `picker_unavailable` error is turned into a plain failure,
 * so the gateway applies the pool's failureMode (FailOpen: a random endpoint; FailClose: 503), as Envoy's
 * `failure_mode_allow` does. The picker's own refusals (400/429/503) still reach the client as they are.
 *
 * The remote picker keeps its endpoints' metrics to itself (ext_proc carries none back), so the gateway scrapes them too,
 * slowly, for `maitred get endpoints` only: what the user sees is the gateway's own scrape, not the picker's.
 */
export function createRemotePoolPicker(remote: RemotePickerRef, viewIntervalMs = VIEW_INTERVAL_MS): EndpointPicker {
  const picker = createRemotePicker({ target: remote.address, ...remoteTls(remote) })
  const view = new EndpointStore({
    intervalMs: viewIntervalMs,
    path: '/metrics',
    timeoutMs: 1_000,
    engineConfigs: [],
    now: Date.now,
    fetch: async (url, init) => {
      const res = await request(url, init)
      return { ok: res.statusCode >= 200 && res.statusCode < 300, status: res.statusCode, text: () => res.body.text() }
    },
  })
  return {
    pick: (request, options) =>
      picker.pick(request, options).catch((err: unknown) => {
        if (err instanceof PickerError && err.code === 'picker_unavailable') throw new Error(err.message)
        throw err
      }),
    complete: (outcome) => picker.complete(outcome),
    setEndpoints: (endpoints) => {
      picker.setEndpoints(endpoints)
      view.setEndpoints(endpoints)
    },
    endpointStates: () => view.states(),
    close: () => {
      view.close()
      return picker.close()
    },
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
