import { describe, expect, it } from 'vitest'
import type { ProcessingResponse } from './ext-proc-messages.js'
import { loadExtProcProto } from './ext-proc-proto.js'
import { fromStruct, toStruct } from './struct-value.js'

/** Encodes and decodes a ProcessingResponse exactly as gRPC does on the wire (proto-loader's serializers). */
function wireRoundTrip(response: object): ProcessingResponse {
  const process = loadExtProcProto().service.Process
  if (!process) throw new Error('Process method missing')
  return process.responseDeserialize(process.responseSerialize(response)) as ProcessingResponse
}

describe('google.protobuf.Struct helpers', () => {
  it('round-trips the envoy.lb metadata through the wire encoding', () => {
    const metadata = { 'envoy.lb': { 'x-gateway-destination-endpoint': '10.0.0.1:8000,10.0.0.2:8000' } }
    const decoded = wireRoundTrip({ request_headers: { response: {} }, dynamic_metadata: toStruct(metadata) })
    expect(fromStruct(decoded.dynamic_metadata)).toEqual(metadata)
  })

  it('round-trips every JSON kind', () => {
    const value = { s: 'x', n: 1.5, b: false, z: null, list: ['a', 2, { deep: true }], nested: { k: ['v'] } }
    expect(fromStruct(wireRoundTrip({ request_headers: { response: {} }, dynamic_metadata: toStruct(value) }).dynamic_metadata)).toEqual(value)
  })

  it('documents the trap: snake_case Value members are silently dropped by protobufjs', () => {
    const snake = { fields: { 'envoy.lb': { struct_value: { fields: { 'x-gateway-destination-endpoint': { string_value: '10.0.0.1:8000' } } } } } }
    const decoded = wireRoundTrip({ request_headers: { response: {} }, dynamic_metadata: snake })
    expect(fromStruct(decoded.dynamic_metadata)).toEqual({ 'envoy.lb': null })
  })
})

describe('ext_proc proto additions (FULL_DUPLEX_STREAMED, upstream field numbers)', () => {
  const { root } = loadExtProcProto()
  it('has StreamedBodyResponse as BodyMutation.streamed_response = 3 in the mutation oneof', () => {
    const field = root.lookupType('envoy.service.ext_proc.v3.BodyMutation').fields.streamed_response
    expect(field?.id).toBe(3)
    expect(field?.partOf?.name).toBe('mutation')
    const streamed = root.lookupType('envoy.service.ext_proc.v3.StreamedBodyResponse')
    expect([streamed.fields.body?.id, streamed.fields.end_of_stream?.id]).toEqual([1, 2])
  })
  it('has ProcessingRequest.protocol_config = 11 and the new BodySendMode values', () => {
    expect(root.lookupType('envoy.service.ext_proc.v3.ProcessingRequest').fields.protocol_config?.id).toBe(11)
    const config = root.lookupType('envoy.service.ext_proc.v3.ProtocolConfiguration')
    expect([config.fields.request_body_mode?.id, config.fields.response_body_mode?.id, config.fields.send_body_without_waiting_for_header_response?.id]).toEqual([1, 2, 3])
    const modes = root.lookupEnum('envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode').values
    expect([modes.FULL_DUPLEX_STREAMED, modes.GRPC]).toEqual([4, 5])
  })
  it('encodes streamed_response with field number 3 on the wire', () => {
    const type = root.lookupType('envoy.service.ext_proc.v3.BodyMutation')
    const bytes = type.encode(type.fromObject({ streamed_response: { body: Buffer.from('hi'), end_of_stream: true } })).finish()
    expect(bytes[0]).toBe((3 << 3) | 2) // field 3, length-delimited
  })
})
