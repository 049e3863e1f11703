/**
 * TypeScript shapes of the ext_proc messages this folder reads and writes, as @grpc/proto-loader presents them with
 * EXT_PROC_LOADER_OPTIONS (snake_case fields, enum names as strings, bytes as Buffer). Only the fields we use are listed.
 * `google.protobuf.Struct` values keep protobufjs's camelCase names (`structValue`, `stringValue`, …): see struct-value.ts.
 */

export type BodySendMode = 'NONE' | 'STREAMED' | 'BUFFERED' | 'BUFFERED_PARTIAL' | 'FULL_DUPLEX_STREAMED' | 'GRPC'

export interface HeaderValue {
  key: string
  value?: string
  raw_value?: Buffer | Uint8Array
}

export interface HeaderValueOption {
  header: HeaderValue
  append_action?: 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS'
}

export interface HeaderMap {
  headers: HeaderValue[]
}

export interface StructValue {
  nullValue?: 'NULL_VALUE' | 0
  numberValue?: number
  stringValue?: string
  boolValue?: boolean
  structValue?: Struct
  listValue?: { values: StructValue[] }
  /** Set by the decoder (oneofs: true): which member above is present. */
  kind?: string
}

export interface Struct {
  fields: Record<string, StructValue>
}

export interface Metadata {
  filter_metadata?: Record<string, Struct>
}

export interface HttpHeaders {
  headers: HeaderMap | null
  end_of_stream: boolean
}

export interface HttpBody {
  body: Buffer
  end_of_stream: boolean
}

export interface HttpTrailers {
  trailers: HeaderMap | null
}

export interface ProtocolConfiguration {
  request_body_mode: BodySendMode
  response_body_mode: BodySendMode
  send_body_without_waiting_for_header_response: boolean
}

export interface ProcessingRequest {
  request?: 'request_headers' | 'response_headers' | 'request_body' | 'response_body' | 'request_trailers' | 'response_trailers'
  request_headers?: HttpHeaders | null
  response_headers?: HttpHeaders | null
  request_body?: HttpBody | null
  response_body?: HttpBody | null
  request_trailers?: HttpTrailers | null
  response_trailers?: HttpTrailers | null
  metadata_context?: Metadata | null
  observability_mode?: boolean
  protocol_config?: ProtocolConfiguration | null
}

export interface HeaderMutation {
  set_headers?: HeaderValueOption[]
  remove_headers?: string[]
}

export interface BodyMutation {
  mutation?: 'body' | 'clear_body' | 'streamed_response'
  body?: Buffer
  clear_body?: boolean
  streamed_response?: { body: Buffer; end_of_stream: boolean } | null
}

export interface CommonResponse {
  status?: 'CONTINUE' | 'CONTINUE_AND_REPLACE'
  header_mutation?: HeaderMutation | null
  body_mutation?: BodyMutation | null
  clear_route_cache?: boolean
}

export interface HeadersResponse {
  response: CommonResponse | null
}

export interface BodyResponse {
  response: CommonResponse | null
}

export interface TrailersResponse {
  header_mutation?: HeaderMutation | null
}

export interface ImmediateResponse {
  /** `envoy.type.v3.HttpStatus`: the enum is written as its number, decoded as its name (e.g. `TooManyRequests`). */
  status: { code: number | string } | null
  headers?: HeaderMutation | null
  body?: Buffer
  details?: string
}

export interface ProcessingResponse {
  response?:
    | 'request_headers'
    | 'response_headers'
    | 'request_body'
    | 'response_body'
    | 'request_trailers'
    | 'response_trailers'
    | 'immediate_response'
  request_headers?: HeadersResponse | null
  response_headers?: HeadersResponse | null
  request_body?: BodyResponse | null
  response_body?: BodyResponse | null
  request_trailers?: TrailersResponse | null
  response_trailers?: TrailersResponse | null
  immediate_response?: ImmediateResponse | null
  dynamic_metadata?: Struct | null
}
