import * as grpc from '@grpc/grpc-js'
import type { ProcessingRequest, ProcessingResponse } from './ext-proc-messages.js'
import { loadExtProcProto } from './ext-proc-proto.js'

/** A client for `envoy.service.ext_proc.v3.ExternalProcessor`, i.e. what Envoy's ext_proc filter holds. */
export interface ExtProcClient extends grpc.Client {
  Process(options?: grpc.CallOptions): grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse>
}

export interface ExtProcClientTls {
  /** PEM CA bundle to trust; the system roots when omitted. */
  ca?: string
  /** Accept any server certificate (the seeds' `insecureSkipVerify`). */
  insecureSkipVerify?: boolean
  /** Name to verify the certificate against (and send as SNI/authority) when it differs from the target host. */
  serverName?: string
}

export function createExtProcClient(target: string, tls?: ExtProcClientTls): ExtProcClient {
  const { service } = loadExtProcProto()
  const Client = grpc.makeGenericClientConstructor(service as grpc.ServiceDefinition, 'ExternalProcessor')
  const credentials = tls
    ? grpc.credentials.createSsl(tls.ca ? Buffer.from(tls.ca) : null, null, null, tls.insecureSkipVerify ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {})
    : grpc.credentials.createInsecure()
  const channelOptions: grpc.ChannelOptions = {
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
    'grpc.enable_channelz': 0,
    // The picker streams whole request bodies back (full duplex); a 64 KiB HTTP/2 window would stall every long prompt.
    'grpc-node.flow_control_window': 4 * 1024 * 1024,
  }
  if (tls?.serverName) {
    channelOptions['grpc.ssl_target_name_override'] = tls.serverName
    channelOptions['grpc.default_authority'] = tls.serverName
  }
  return new Client(target, credentials, channelOptions) as unknown as ExtProcClient
}
