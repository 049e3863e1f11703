import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import * as protoLoader from '@grpc/proto-loader'
import protobuf from 'protobufjs'

/** The fully-qualified gRPC service name Envoy calls, also the gRPC health service name GIE registers. */
export const EXT_PROC_SERVICE_NAME = 'envoy.service.ext_proc.v3.ExternalProcessor'

const EXT_PROC_PACKAGE = 'envoy.service.ext_proc.v3'
const BODY_SEND_MODE = 'envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode'

/**
 * How messages look in JavaScript: snake_case fields (keepCase), enums as their names, bytes as Buffers, unset fields filled
 * with defaults and the `oneofs` virtual field naming the set member. Both the server and the clients use these options,
 * so everything in this folder reads and writes the same shapes.
 */
export const EXT_PROC_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
}

export interface ExtProcProto {
  /** The protobufjs reflection root (used for enum lookups such as `envoy.type.v3.StatusCode`). */
  readonly root: protobuf.Root
  readonly packageDefinition: protoLoader.PackageDefinition
  /** The `Process` bidi-streaming service definition, ready for `Server.addService` / `makeGenericClientConstructor`. */
  readonly service: protoLoader.ServiceDefinition
}

let cached: ExtProcProto | undefined

/**
 * Envoy's real ext_proc API, loaded from the copy of envoyproxy/envoy's `api/` that `@grpc/grpc-js-xds` ships
 * (`deps/envoy-api`, with `xds`, `googleapis` and `protoc-gen-validate` beside it), plus the FULL_DUPLEX_STREAMED additions
 * that copy predates (see `addFullDuplexStreamedFields`). Loaded once per process (~80 ms).
 */
export function loadExtProcProto(): ExtProcProto {
  if (cached) return cached
  const require = createRequire(import.meta.url)
  const deps = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps')
  const includeDirs = [
    ...['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((dir) => path.join(deps, dir)),
    // google/protobuf/descriptor.proto (imported by the validate/udpa annotations) is not among protobufjs's bundled
    // well-known types, but the protobufjs package carries the file.
    path.dirname(require.resolve('protobufjs/package.json')),
  ]
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) => {
    if (path.isAbsolute(target)) return target
    return includeDirs.map((dir) => path.join(dir, target)).find((file) => fs.existsSync(file)) ?? target
  }
  root.loadSync('envoy/service/ext_proc/v3/external_processor.proto', { keepCase: true })
  addFullDuplexStreamedFields(root)
  root.resolveAll()
  const packageDefinition = protoLoader.fromJSON(root.toJSON(), EXT_PROC_LOADER_OPTIONS)
  const service = packageDefinition[EXT_PROC_SERVICE_NAME]
  if (!service || !('Process' in service)) throw new Error(`${EXT_PROC_SERVICE_NAME} missing from the loaded protos`)
  cached = { root, packageDefinition, service: service as protoLoader.ServiceDefinition }
  return cached
}

/**
 * The additions Envoy made to the ext_proc API for FULL_DUPLEX_STREAMED (envoyproxy/envoy
 * `api/envoy/service/ext_proc/v3/external_processor.proto` and `.../filters/http/ext_proc/v3/processing_mode.proto`,
 * Envoy ≥ 1.33), with upstream's field numbers and enum values:
 *   message StreamedBodyResponse { bytes body = 1; bool end_of_stream = 2; }
 *   BodyMutation.oneof mutation { StreamedBodyResponse streamed_response = 3; }
 *   message ProtocolConfiguration { BodySendMode request_body_mode = 1; BodySendMode response_body_mode = 2;
 *                                   bool send_body_without_waiting_for_header_response = 3; }
 *   ProcessingRequest { ProtocolConfiguration protocol_config = 11; }
 *   ProcessingMode.BodySendMode { FULL_DUPLEX_STREAMED = 4; GRPC = 5; }
 * Each is added only when missing, so a newer bundled copy keeps working unchanged.
 */
function addFullDuplexStreamedFields(root: protobuf.Root): void {
  const pkg = root.lookup(EXT_PROC_PACKAGE)
  if (!(pkg instanceof protobuf.Namespace)) throw new Error(`${EXT_PROC_PACKAGE} not found`)

  const bodySendMode = root.lookupEnum(BODY_SEND_MODE)
  if (bodySendMode.values.FULL_DUPLEX_STREAMED === undefined) bodySendMode.add('FULL_DUPLEX_STREAMED', 4)
  if (bodySendMode.values.GRPC === undefined) bodySendMode.add('GRPC', 5)

  if (!pkg.get('StreamedBodyResponse')) {
    pkg.add(
      new protobuf.Type('StreamedBodyResponse')
        .add(new protobuf.Field('body', 1, 'bytes'))
        .add(new protobuf.Field('end_of_stream', 2, 'bool')),
    )
  }
  const bodyMutation = root.lookupType(`${EXT_PROC_PACKAGE}.BodyMutation`)
  if (!bodyMutation.fields.streamed_response) {
    const field = new protobuf.Field('streamed_response', 3, 'StreamedBodyResponse')
    bodyMutation.add(field)
    const mutation = bodyMutation.oneofs?.mutation
    if (!mutation) throw new Error('BodyMutation.mutation oneof not found')
    mutation.add(field)
  }

  if (!pkg.get('ProtocolConfiguration')) {
    pkg.add(
      new protobuf.Type('ProtocolConfiguration')
        .add(new protobuf.Field('request_body_mode', 1, BODY_SEND_MODE))
        .add(new protobuf.Field('response_body_mode', 2, BODY_SEND_MODE))
        .add(new protobuf.Field('send_body_without_waiting_for_header_response', 3, 'bool')),
    )
  }
  const processingRequest = root.lookupType(`${EXT_PROC_PACKAGE}.ProcessingRequest`)
  if (!processingRequest.fields.protocol_config) {
    processingRequest.add(new protobuf.Field('protocol_config', 11, 'ProtocolConfiguration'))
  }
}
