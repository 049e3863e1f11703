import type { z } from 'zod'

/** Pool annotations that point the gateway at an endpoint picker running elsewhere (e.g. `maitred picker`), over ext_proc. */
export const REMOTE_PICKER_ANNOTATIONS = {
  address: 'maitred.dev/endpoint-picker-address',
  caFile: 'maitred.dev/endpoint-picker-ca-file',
  serverName: 'maitred.dev/endpoint-picker-server-name',
  insecureSkipVerify: 'maitred.dev/endpoint-picker-insecure-skip-verify',
} as const

const PREFIX = 'maitred.dev/endpoint-picker-'
const KNOWN: readonly string[] = Object.values(REMOTE_PICKER_ANNOTATIONS)
/** `host:port`: a DNS name or IPv4 address, or an IPv6 address in brackets. */
const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/
const DNS_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/

/**
 * Checks an InferencePool's remote-picker annotations when the config loads (a misspelt name or a bad `host:port`
 * would otherwise show only at the first request, as a picker that cannot be reached). Issues are at
 * `annotations.<name>` under the metadata being refined.
 */
export function checkRemotePickerAnnotations(annotations: Readonly<Record<string, string>> | undefined, ctx: z.RefinementCtx): void {
  if (!annotations) return
  const problem = (name: string, message: string) => ctx.addIssue({ code: 'custom', path: ['annotations', name], message })
  for (const name of Object.keys(annotations))
    if (name.startsWith(PREFIX) && !KNOWN.includes(name)) problem(name, `unknown annotation; known: ${KNOWN.join(', ')}`)
  const { address, caFile, serverName, insecureSkipVerify } = REMOTE_PICKER_ANNOTATIONS
  const addressValue = annotations[address]
  if (addressValue !== undefined) {
    const port = HOST_PORT.exec(addressValue)?.[1]
    if (port === undefined || Number(port) < 1 || Number(port) > 65_535) problem(address, `${JSON.stringify(addressValue)} is not host:port (port 1-65535)`)
  }
  for (const companion of [caFile, serverName, insecureSkipVerify])
    if (annotations[companion] !== undefined && addressValue === undefined) problem(companion, `applies only with ${address}`)
  if (annotations[caFile] === '') problem(caFile, 'must be a file path')
  const name = annotations[serverName]
  if (name !== undefined && !DNS_NAME.test(name)) problem(serverName, `${JSON.stringify(name)} is not a DNS name`)
  const insecure = annotations[insecureSkipVerify]
  if (insecure !== undefined && !/^(true|false)$/i.test(insecure)) problem(insecureSkipVerify, `must be "true" or "false", not ${JSON.stringify(insecure)}`)
}
