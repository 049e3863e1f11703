import type * as grpc from '@grpc/grpc-js'
import type { EndpointRef } from '../endpoint.js'
import { type Decision, type EndpointPicker, type ExplainRow, PickerError, type PickOptions, type PickOutcome, type PickRequest } from '../endpoint-picker.js'
import { LinkedList, type ListNode } from '../linked-list.js'
import { splitBody } from './body-chunks.js'
import { createExtProcClient, type ExtProcClientTls } from './ext-proc-client.js'
import type { ImmediateResponse, ProcessingRequest, ProcessingResponse } from './ext-proc-messages.js'
import { headerOptionsToRecord, recordToHeaderMap } from './header-map.js'
import { immediateStatusCode } from './immediate-response.js'
import {
  DECISION_METADATA_NAMESPACE,
  DESTINATION_ENDPOINT_KEY,
  DESTINATION_METADATA_NAMESPACE,
  EXPLAIN_HEADER,
  SERVED_ENDPOINT_KEY,
  SUBSET_KEY,
  SUBSET_METADATA_NAMESPACE,
} from './protocol.js'
import { fromStruct, toStruct } from './struct-value.js'

export interface RemotePickerOptions {
  /** `host:port` of the picker's ext_proc port. */
  target: string
  /** TLS to the picker (omit for plaintext). */
  tls?: ExtProcClientTls
  /** How long a pick may take before it fails with PickerError 503 `picker_unavailable`; default 5 000 ms. */
  timeoutMs?: number
}

type Stream = grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse>

/**
 * An EndpointPicker that asks a remote EPP over ext_proc, playing Envoy's side of GIE's FULL_DUPLEX_STREAMED contract:
 * request headers (+ `protocol_config`) and the JSON body in ≤ 62 000-byte chunks, then the endpoint list read from the
 * `x-gateway-destination-endpoint` header mutation (or the `envoy.lb` metadata). The stream stays open until `complete`,
 * which plays the response side — `:status`, the served endpoint in `envoy.lb` metadata and a body carrying the `usage`
 * the gateway measured — so the remote picker's in-flight and token accounting stay right.
 *
 * Transport failures and timeouts reject with PickerError(503, …, 'picker_unavailable') so the gateway can apply the
 * pool's failureMode; the picker's own refusals (ImmediateResponse 400/429/503/500) keep their status and code.
 * `setEndpoints` only teaches it how to turn `host:port` back into the gateway's EndpointRefs (the remote knows its own
 * pool); `endpointStates` is empty.
 */
/** A picker across the network always answers later. */
export interface RemotePicker extends EndpointPicker {
  pick(request: PickRequest, options?: PickOptions): Promise<Decision>
}

export function createRemotePicker(options: RemotePickerOptions): RemotePicker {
  const client = createExtProcClient(options.target, options.tls)
  const timeoutMs = options.timeoutMs ?? 5_000
  /** Streams of picked requests, waiting for `complete` (each decision carries its node as its ticket). */
  const inFlight = new LinkedList<Stream>()
  let known = new Map<string, EndpointRef>()

  const unavailable = (reason: string) => new PickerError(503, `endpoint picker at ${options.target} ${reason}`, 'picker_unavailable')
  const endpointFor = (address: string): EndpointRef =>
    known.get(address) ?? { id: address, name: address, namespace: '', address, url: `http://${address}`, labels: {} }

  const pick = (request: PickRequest, pickOptions: PickOptions = {}): Promise<Decision> =>
    new Promise<Decision>((resolve, reject) => {
      const call: Stream = client.Process()
      let node: ListNode<Stream> | undefined
      let settled = false
      const settle = (outcome: { decision: Decision } | { error: PickerError }) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if ('decision' in outcome) {
          node = inFlight.push(call)
          resolve({ ...outcome.decision, ticket: node })
        } else {
          call.cancel()
          reject(outcome.error)
        }
      }
      const timer = setTimeout(() => settle({ error: unavailable(`did not answer within ${timeoutMs} ms`) }), timeoutMs)

      call.on('data', (response: ProcessingResponse) => {
        if (settled) return // the echoed body and response-side answers: nothing to act on
        if (response.immediate_response) settle({ error: refusal(response.immediate_response) })
        else if (response.response === 'request_headers') settle(decode(response, request, endpointFor))
        // Anything else before the headers answer (e.g. BUFFERED-mode servers' empty CONTINUE) is not a decision yet.
      })
      const forget = () => {
        if (node) inFlight.remove(node)
      }
      call.on('error', (error: grpc.ServiceError) => {
        forget()
        settle({ error: unavailable(`failed: ${error.details || error.message}`) })
      })
      call.on('end', () => {
        forget()
        settle({ error: unavailable('closed the stream without a decision') })
      })

      const body = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body))
      const headers = requestHeaders(request, body)
      if (pickOptions.explain) headers[EXPLAIN_HEADER] = '1'
      call.write({
        request_headers: { headers: recordToHeaderMap(headers), end_of_stream: body === undefined },
        protocol_config: { request_body_mode: 'FULL_DUPLEX_STREAMED', response_body_mode: 'FULL_DUPLEX_STREAMED', send_body_without_waiting_for_header_response: false },
        // The proxy's way of restricting the candidates.
        ...(pickOptions.subset ? { metadata_context: { filter_metadata: { [SUBSET_METADATA_NAMESPACE]: toStruct({ [SUBSET_KEY]: [...pickOptions.subset] }) } } } : {}),
      })
      if (body) {
        const chunks = splitBody(body)
        chunks.forEach((chunk, index) => call.write({ request_body: { body: chunk, end_of_stream: index === chunks.length - 1 } }))
      }
    })

  const complete = (outcome: PickOutcome) => {
    const call = inFlight.take(outcome.decision.ticket)
    if (!call) return
    const hasUsage = outcome.promptTokens !== undefined || outcome.completionTokens !== undefined
    call.write({
      response_headers: { headers: recordToHeaderMap({ ':status': String(outcome.status), 'content-type': 'application/json' }), end_of_stream: !hasUsage },
      metadata_context: { filter_metadata: { [DESTINATION_METADATA_NAMESPACE]: toStruct({ [SERVED_ENDPOINT_KEY]: outcome.endpoint.address }) } },
    })
    if (hasUsage) {
      const usage = { prompt_tokens: outcome.promptTokens, completion_tokens: outcome.completionTokens, total_tokens: (outcome.promptTokens ?? 0) + (outcome.completionTokens ?? 0) }
      call.write({ response_body: { body: Buffer.from(JSON.stringify({ usage })), end_of_stream: true } })
    }
    call.end()
  }

  return {
    pick,
    complete,
    setEndpoints(endpoints) {
      known = new Map(endpoints.map((endpoint) => [endpoint.address, endpoint]))
    },
    endpointStates: () => [],
    async close() {
      for (let call = inFlight.shift(); call; call = inFlight.shift()) call.cancel()
      client.close()
    },
  }
}

/** Envoy's request headers for this request: pseudo-headers, the gateway's headers, our request id and body length. */
function requestHeaders(request: PickRequest, body: Buffer | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    ':method': body ? 'POST' : 'GET',
    ':path': request.path,
    ':scheme': 'http',
  }
  for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers[name.toLowerCase()] = value
  headers['x-request-id'] = request.requestId
  if (body) {
    headers['content-type'] ??= 'application/json'
    headers['content-length'] = String(body.length)
  } else {
    delete headers['content-length']
  }
  return headers
}

function decode(response: ProcessingResponse, request: PickRequest, endpointFor: (address: string) => EndpointRef): { decision: Decision } | { error: PickerError } {
  const mutation = response.request_headers?.response?.header_mutation
  const set = headerOptionsToRecord(mutation?.set_headers)
  const metadata = fromStruct(response.dynamic_metadata)
  const lb = metadata[DESTINATION_METADATA_NAMESPACE] as Record<string, unknown> | null | undefined
  const destination = set[DESTINATION_ENDPOINT_KEY] ?? (typeof lb?.[DESTINATION_ENDPOINT_KEY] === 'string' ? (lb[DESTINATION_ENDPOINT_KEY] as string) : '')
  const [primary, ...fallbacks] = destination.split(',').map((address) => address.trim()).filter((address) => address !== '')
  if (!primary) return { error: new PickerError(500, 'endpoint picker answered without x-gateway-destination-endpoint', 'picker_protocol_error') }
  // Headers the picker added (GIE also echoes every request header back; those are not additions).
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(set)) {
    if (name === DESTINATION_ENDPOINT_KEY || name === 'content-length' || name === 'x-request-id') continue
    if (request.headers[name] !== value) headers[name] = value
  }
  // A maitred picker also sends the rest of its Decision; a GIE/llm-d EPP does not, and those parts stay empty.
  const extra = (metadata[DECISION_METADATA_NAMESPACE] ?? {}) as { profiles?: string[]; responseHeaders?: Record<string, string>; explain?: ExplainRow[] }
  return {
    decision: {
      endpoint: endpointFor(primary),
      fallbacks: fallbacks.map(endpointFor),
      headers,
      ...(mutation?.remove_headers?.length ? { removeHeaders: mutation.remove_headers } : {}),
      ...(extra.responseHeaders ? { responseHeaders: extra.responseHeaders } : {}),
      profiles: extra.profiles ?? [],
      ...(extra.explain ? { explain: extra.explain } : {}),
    },
  }
}

function refusal(immediate: ImmediateResponse): PickerError {
  const code = immediateStatusCode(immediate)
  const status = code === 400 || code === 429 || code === 503 ? code : 500
  let message = `endpoint picker refused the request with ${code}`
  let errorCode = `http_${code}`
  try {
    const error = JSON.parse(Buffer.from(immediate.body ?? Buffer.alloc(0)).toString('utf8')).error
    if (typeof error?.message === 'string') message = error.message
    if (typeof error?.code === 'string') errorCode = error.code
  } catch {
    // Not our OpenAI-shaped body (e.g. a plain-text GIE refusal): keep the generic message.
  }
  return new PickerError(status, message, errorCode)
}
