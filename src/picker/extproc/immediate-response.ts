import { PickerError } from '../endpoint-picker.js'
import type { ImmediateResponse, ProcessingResponse } from './ext-proc-messages.js'
import { loadExtProcProto } from './ext-proc-proto.js'
import { setHeader } from './header-map.js'
import { DROPPED_REASON_HEADER } from './protocol.js'

const ERROR_TYPES: Record<PickerError['status'], string> = {
  400: 'invalid_request_error',
  429: 'rate_limit_error',
  500: 'internal_error',
  503: 'service_unavailable',
}

/** llm-d HEAD's `x-llm-d-request-dropped-reason` values for the refusals the picker can make. */
const DROPPED_REASONS: Partial<Record<PickerError['status'], string>> = {
  429: 'rejected-saturated',
  503: 'rejected-no-endpoints',
}

/** Anything thrown while picking, as a PickerError (unexpected exceptions become GIE's "Internal" 500). */
export function toPickerError(error: unknown): PickerError {
  if (error instanceof PickerError) return error
  return new PickerError(500, `endpoint picker failed: ${error instanceof Error ? error.message : String(error)}`, 'internal_error')
}

/**
 * The ImmediateResponse Envoy sends to the client instead of forwarding (GIE: 400 BadRequest, 429 ResourceExhausted,
 * 503 no candidate endpoints, 500 Internal), with an OpenAI-shaped JSON body.
 */
export function immediateResponseFor(error: PickerError): ProcessingResponse {
  const body = JSON.stringify({ error: { message: error.message, type: ERROR_TYPES[error.status], code: error.code } })
  const reason = DROPPED_REASONS[error.status]
  return {
    immediate_response: {
      status: { code: error.status },
      headers: {
        set_headers: [
          setHeader('content-type', 'application/json'),
          ...(reason ? [setHeader(DROPPED_REASON_HEADER, reason)] : []),
        ],
      },
      body: Buffer.from(body),
      details: `maitred_epp_${error.code}`,
    },
  }
}

/** The HTTP status of a decoded ImmediateResponse (the loader decodes `envoy.type.v3.StatusCode` by name, e.g. `TooManyRequests`). */
export function immediateStatusCode(immediate: ImmediateResponse): number {
  const code = immediate.status?.code
  if (typeof code === 'number') return code
  return loadExtProcProto().root.lookupEnum('envoy.type.v3.StatusCode').values[code ?? ''] ?? 500
}
