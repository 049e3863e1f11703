import { randomUUID } from 'node:crypto'
import type { EndpointRef } from '../endpoint.js'
import type { Decision, EndpointPicker, PickerError, PickRequest } from '../endpoint-picker.js'
import { formatExplainHeader } from '../framework/explain.js'
import { splitBody } from './body-chunks.js'
import type { ExtProcMetrics } from './ext-proc-metrics.js'
import type {
  BodySendMode,
  CommonResponse,
  HttpBody,
  HttpHeaders,
  Metadata,
  ProcessingRequest,
  ProcessingResponse,
  ProtocolConfiguration,
} from './ext-proc-messages.js'
import { headerMapToRecord, setHeader } from './header-map.js'
import { immediateResponseFor, toPickerError } from './immediate-response.js'
import {
  DECISION_METADATA_NAMESPACE,
  DESTINATION_ENDPOINT_KEY,
  DESTINATION_METADATA_NAMESPACE,
  EXPLAIN_HEADER,
  RESPONSE_MARKER_HEADER,
  SERVED_ENDPOINT_KEY,
  SUBSET_KEY,
  SUBSET_METADATA_NAMESPACE,
} from './protocol.js'
import { prepareRequestBody } from './request-body.js'
import { ResponseUsageReader } from './response-usage.js'
import { fromStruct, toStruct } from './struct-value.js'

/** The two body modes deployments use: GIE's contract, and the seeds' Istio workaround. */
export type ServedBodyMode = 'FULL_DUPLEX_STREAMED' | 'BUFFERED'

export interface ExtProcSessionOptions {
  picker: EndpointPicker
  /** Assumed for both directions when Envoy does not announce its modes in `protocol_config` (Envoy < 1.33). */
  bodyMode: ServedBodyMode
  metrics?: ExtProcMetrics
  /** GIE's `--disable-endpoint-subset-filter`: ignore the proxy's `envoy.lb.subset_hint`. */
  disableSubsetFilter?: boolean
  /** Monotonic milliseconds, for durations. */
  now?: () => number
  newRequestId?: () => string
  send(response: ProcessingResponse): void
}

interface PickedRequest {
  readonly decision: Decision
  readonly model: string
  readonly targetModel: string
  readonly requestBytes: number
  readonly startedAt: number
}

interface ResponseState {
  readonly status: number
  readonly reader: ResponseUsageReader
  bytes: number
  served?: string
}

/**
 * One HTTP request's ext_proc conversation (one gRPC `Process` stream), following GIE's `handlers/server.go`:
 *
 * FULL_DUPLEX_STREAMED (GIE's contract): request headers are held; body chunks are buffered until end of stream; then the
 * body is parsed (400 without `model`), `model` rewritten, the picker run, and the *headers* response sent with the routing
 * header mutation (`x-gateway-destination-endpoint`, `Content-Length`, picker headers) and `envoy.lb` dynamic metadata,
 * followed by the body (re-marshalled when `model` was rewritten) as `streamed_response` chunks of ≤ 62 000 bytes, the last one with end_of_stream.
 *
 * BUFFERED (the seeds' workaround; also how STREAMED is answered): the headers are answered at once (CONTINUE), and the
 * body response carries the header mutation, the metadata and the replaced body. In STREAMED mode earlier chunks are
 * cleared and the last one replaced by the whole body; Envoy ignores header mutations there, so only the metadata routes.
 *
 * Response side: `x-went-into-resp-headers: true` is added, body chunks pass through (echoed as `streamed_response` in
 * full-duplex mode) while usage is read from them, and at the end `EndpointPicker.complete` gets the status and tokens.
 * If the stream ends first, completion is forced so the picker's in-flight accounting never leaks.
 */
export class ExtProcSession {
  private readonly now: () => number
  private requestBodyMode: BodySendMode | undefined
  private responseBodyMode: BodySendMode | undefined
  private requestHeaders: Record<string, string> = {}
  private requestId = ''
  private requestIdGenerated = false
  private subset: string[] | undefined
  private readonly requestBody: Buffer[] = []
  private requestBodyDone = false
  private refused = false
  private picked: PickedRequest | undefined
  private response: ResponseState | undefined
  private completed = false

  constructor(private readonly options: ExtProcSessionOptions) {
    this.now = options.now ?? (() => performance.now())
  }

  async handle(message: ProcessingRequest): Promise<void> {
    if (this.requestBodyMode === undefined) this.resolveBodyModes(message.protocol_config)
    // After an ImmediateResponse Envoy ignores the stream; so do we.
    if (this.refused) return
    switch (message.request) {
      case 'request_headers':
        return this.onRequestHeaders(required(message.request_headers), message.metadata_context)
      case 'request_body':
        return this.onRequestBody(required(message.request_body))
      case 'request_trailers':
        return this.onRequestTrailers()
      case 'response_headers':
        return this.onResponseHeaders(required(message.response_headers), message.metadata_context)
      case 'response_body':
        return this.onResponseBody(required(message.response_body), message.metadata_context)
      case 'response_trailers':
        this.options.send({ response_trailers: {} })
        return this.finishResponse()
      default:
        throw new Error(`ProcessingRequest without a known request member: ${String(message.request)}`)
    }
  }

  /** The stream is over (half-close, cancel or error): run the completion if the response never finished. */
  end(): void {
    this.finishResponse()
  }

  private resolveBodyModes(config: ProtocolConfiguration | null | undefined): void {
    this.requestBodyMode = config ? config.request_body_mode : this.options.bodyMode
    this.responseBodyMode = config ? config.response_body_mode : this.options.bodyMode
  }

  private async onRequestHeaders(headers: HttpHeaders, metadata: Metadata | null | undefined): Promise<void> {
    this.requestHeaders = headerMapToRecord(headers.headers)
    const given = this.requestHeaders['x-request-id']
    this.requestIdGenerated = !given
    this.requestId = given || (this.options.newRequestId ?? randomUUID)()
    this.subset = this.options.disableSubsetFilter ? undefined : readSubset(metadata)

    if (headers.end_of_stream || this.requestBodyMode === 'NONE') {
      // Header-only request (e.g. GET), or Envoy will not show us the body: pick without one.
      const decision = await this.schedule(undefined, '', '', 0)
      if (decision) this.options.send({ request_headers: { response: this.routing(decision) }, dynamic_metadata: destinationMetadata(decision) })
      return
    }
    // Full duplex: answered once the whole body is in. Otherwise let the body come.
    if (this.requestBodyMode !== 'FULL_DUPLEX_STREAMED') this.options.send({ request_headers: { response: {} } })
  }

  private async onRequestBody(body: HttpBody): Promise<void> {
    if (this.requestBodyDone) {
      // Envoy should not send body after end of stream; answer so it is never left waiting.
      this.options.send({ request_body: { response: {} } })
      return
    }
    this.requestBody.push(body.body)
    // In BUFFERED mode the single body message is the whole body, whatever its end_of_stream says.
    if (body.end_of_stream || this.requestBodyMode === 'BUFFERED') return this.finishRequestBody(body.end_of_stream)
    if (this.requestBodyMode !== 'FULL_DUPLEX_STREAMED') {
      // STREAMED / BUFFERED_PARTIAL: each chunk needs an answer; drop it now, the whole rewritten body replaces the last.
      this.options.send({ request_body: { response: { body_mutation: { clear_body: true } } } })
    }
  }

  private async onRequestTrailers(): Promise<void> {
    // With trailers, the last body chunk had no end_of_stream: the body is complete now.
    if (!this.requestBodyDone && this.requestBodyMode === 'FULL_DUPLEX_STREAMED') await this.finishRequestBody(false)
    if (!this.refused) this.options.send({ request_trailers: {} })
  }

  private async finishRequestBody(endOfStream: boolean): Promise<void> {
    this.requestBodyDone = true
    const raw = Buffer.concat(this.requestBody)
    this.requestBody.length = 0
    let prepared
    try {
      prepared = prepareRequestBody(raw, this.requestHeaders)
    } catch (error) {
      return this.refuse(toPickerError(error), '', '')
    }
    const decision = await this.schedule(prepared.body, prepared.model, prepared.targetModel, prepared.bytes.length)
    if (!decision) return
    const routing = this.routing(decision, prepared.bytes.length)
    const dynamicMetadata = destinationMetadata(decision)
    if (this.requestBodyMode === 'FULL_DUPLEX_STREAMED') {
      this.options.send({ request_headers: { response: routing }, dynamic_metadata: dynamicMetadata })
      const chunks = splitBody(prepared.bytes)
      chunks.forEach((chunk, index) => {
        const last = index === chunks.length - 1
        this.options.send({
          request_body: { response: { body_mutation: { streamed_response: { body: chunk, end_of_stream: last && endOfStream } } } },
        })
      })
      return
    }
    this.options.send({
      request_body: { response: { ...routing, body_mutation: { body: prepared.bytes } } },
      dynamic_metadata: dynamicMetadata,
    })
  }

  /** Runs the picker; on refusal sends the ImmediateResponse and returns undefined. */
  private async schedule(
    body: Record<string, unknown> | undefined,
    model: string,
    targetModel: string,
    requestBytes: number,
  ): Promise<Decision | undefined> {
    const headers: Record<string, string> = { ...this.requestHeaders, 'x-request-id': this.requestId }
    for (const name of Object.keys(headers)) if (name.startsWith(':')) delete headers[name]
    const request: PickRequest = {
      requestId: this.requestId,
      path: (this.requestHeaders[':path'] ?? '/').split('?')[0] ?? '/',
      headers,
      body,
    }
    let decision: Decision
    try {
      decision = await this.options.picker.pick(request, {
        explain: this.requestHeaders[EXPLAIN_HEADER] === '1',
        ...(this.subset ? { subset: this.subset } : {}),
      })
    } catch (error) {
      this.refuse(toPickerError(error), model, targetModel, true)
      return undefined
    }
    this.options.metrics?.requestPicked(model, targetModel)
    this.picked = { decision, model, targetModel, requestBytes, startedAt: this.now() }
    return decision
  }

  /** Sends the ImmediateResponse; `counted` when the picker itself refused (it records its own refusals). */
  private refuse(error: PickerError, model: string, targetModel: string, counted = false): void {
    this.refused = true
    if (!counted) this.options.metrics?.requestRefused(model, targetModel, error.code)
    this.options.send(immediateResponseFor(error))
  }

  /** GIE's request-headers mutation: destination list, new Content-Length, generated x-request-id, picker headers. */
  private routing(decision: Decision, contentLength?: number): CommonResponse {
    const setHeaders = [setHeader(DESTINATION_ENDPOINT_KEY, destinationList(decision))]
    if (contentLength !== undefined) setHeaders.push(setHeader('content-length', String(contentLength)))
    if (this.requestIdGenerated) setHeaders.push(setHeader('x-request-id', this.requestId))
    for (const [key, value] of Object.entries(decision.headers)) setHeaders.push(setHeader(key, value))
    const mutation = { set_headers: setHeaders, remove_headers: [...(decision.removeHeaders ?? [])] }
    return { clear_route_cache: true, header_mutation: mutation }
  }

  private onResponseHeaders(headers: HttpHeaders, metadata: Metadata | null | undefined): void {
    const record = headerMapToRecord(headers.headers)
    const streaming = (record['content-type'] ?? '').includes('text/event-stream')
    this.response = { status: Number(record[':status'] ?? 0), reader: new ResponseUsageReader(streaming), bytes: 0, served: readServed(metadata) }
    const set = [setHeader(RESPONSE_MARKER_HEADER, 'true')]
    const decision = this.picked?.decision
    for (const [key, value] of Object.entries(decision?.responseHeaders ?? {})) set.push(setHeader(key, value))
    if (decision?.explain) set.push(setHeader(EXPLAIN_HEADER, formatExplainHeader(decision.explain)))
    this.options.send({ response_headers: { response: { header_mutation: { set_headers: set } } } })
    if (headers.end_of_stream) this.finishResponse()
  }

  private onResponseBody(body: HttpBody, metadata: Metadata | null | undefined): void {
    this.response ??= { status: 200, reader: new ResponseUsageReader(false), bytes: 0 }
    const response = this.response
    response.served ??= readServed(metadata)
    if (response.bytes === 0 && body.body.length > 0 && this.picked) {
      this.options.metrics?.firstResponseByte(this.picked.model, this.picked.targetModel, (this.now() - this.picked.startedAt) / 1000)
    }
    response.bytes += body.body.length
    response.reader.push(body.body)
    if (this.responseBodyMode === 'FULL_DUPLEX_STREAMED') {
      this.options.send({
        response_body: { response: { body_mutation: { streamed_response: { body: body.body, end_of_stream: body.end_of_stream } } } },
      })
    } else {
      this.options.send({ response_body: { response: {} } })
    }
    if (body.end_of_stream) this.finishResponse()
  }

  /** Feeds the picker (and metrics) once per picked request; 499 when the stream ended before any response. */
  private finishResponse(): void {
    if (this.completed || !this.picked) return
    this.completed = true
    const { decision, model, targetModel, requestBytes, startedAt } = this.picked
    const usage = this.response?.reader.finish() ?? {}
    this.options.picker.complete({
      decision,
      requestId: this.requestId,
      endpoint: servedEndpoint(decision, this.response?.served),
      status: this.response?.status ?? 499,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
    })
    this.options.metrics?.requestFinished(model, targetModel, {
      seconds: (this.now() - startedAt) / 1000,
      requestBytes,
      responseBytes: this.response?.bytes ?? 0,
      usage,
    })
  }
}

function required<T>(value: T | null | undefined): T {
  if (value === null || value === undefined) throw new Error('ProcessingRequest member is empty')
  return value
}

function destinationList(decision: Decision): string {
  return [decision.endpoint, ...decision.fallbacks].map((endpoint) => endpoint.address).join(',')
}

/**
 * `envoy.lb` carries the destination for Envoy; `maitred` carries what only a maitred gateway reads (Envoy keeps unknown
 * namespaces as inert dynamic metadata): the profiles run, the response headers to add, and the explain rows when asked.
 */
function destinationMetadata(decision: Decision) {
  return toStruct({
    [DESTINATION_METADATA_NAMESPACE]: { [DESTINATION_ENDPOINT_KEY]: destinationList(decision) },
    [DECISION_METADATA_NAMESPACE]: { profiles: decision.profiles, responseHeaders: decision.responseHeaders, explain: decision.explain },
  })
}

function readSubset(metadata: Metadata | null | undefined): string[] | undefined {
  const hint = metadata?.filter_metadata?.[SUBSET_METADATA_NAMESPACE]
  if (!hint) return undefined
  const value = fromStruct(hint)[SUBSET_KEY]
  if (!Array.isArray(value)) return undefined
  return value.filter((entry): entry is string => typeof entry === 'string')
}

function readServed(metadata: Metadata | null | undefined): string | undefined {
  const lb = metadata?.filter_metadata?.[DESTINATION_METADATA_NAMESPACE]
  const value = lb ? fromStruct(lb)[SERVED_ENDPOINT_KEY] : undefined
  return typeof value === 'string' && value !== '' ? value : undefined
}

function servedEndpoint(decision: Decision, served: string | undefined): EndpointRef {
  if (served === undefined) return decision.endpoint
  return [decision.endpoint, ...decision.fallbacks].find((endpoint) => endpoint.address === served) ?? decision.endpoint
}
