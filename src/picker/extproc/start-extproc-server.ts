import * as grpc from '@grpc/grpc-js'
import { Registry } from 'prom-client'
import type { EndpointPicker } from '../endpoint-picker.js'
import { createExtProcMetrics } from './ext-proc-metrics.js'
import { loadExtProcProto } from './ext-proc-proto.js'
import { createExtProcService } from './ext-proc-service.js'
import type { ServedBodyMode } from './ext-proc-session.js'
import { bind, hostPort, shutdown } from './grpc-server-lifecycle.js'
import { startHealthServer } from './health-server.js'
import { startMetricsServer } from './metrics-server.js'
import { serverCredentials } from './server-credentials.js'

export interface ExtProcServerOptions {
  picker: EndpointPicker
  /** ext_proc port (GIE 9002); 0 lets the OS choose. */
  grpcPort: number
  /** gRPC health port (GIE 9003); 0 lets the OS choose. */
  healthPort: number
  /** Prometheus port (GIE 9090); omitted means no metrics listener. */
  metricsPort?: number
  /** Listen address for all three ports; default 127.0.0.1 (pass 0.0.0.0 in a pod). */
  host?: string
  secureServing?: boolean
  certPath?: string
  /** Body mode assumed when Envoy does not send `protocol_config`; default FULL_DUPLEX_STREAMED (GIE's contract). */
  bodyMode?: ServedBodyMode
  /** Registry for the request metrics (share the picker's so one /metrics shows both); a private one otherwise. */
  registry?: Registry
  /** GIE's `--disable-endpoint-subset-filter`. */
  disableEndpointSubsetFilter?: boolean
  /** How long `close()` lets open streams (each one an in-flight HTTP request) finish before cutting them; default 5 s. */
  drainTimeoutMs?: number
  onError?: (error: unknown) => void
}

export interface ExtProcServer {
  grpcPort: number
  healthPort: number
  metricsPort?: number
  /** Health goes NOT_SERVING, streams get a short grace, then everything closes. Does not close the picker. */
  close(): Promise<void>
}

/** The endpoint picker served as `envoy.service.ext_proc.v3.ExternalProcessor`, with its health and metrics ports. */
export async function startExtProcServer(options: ExtProcServerOptions): Promise<ExtProcServer> {
  const host = options.host ?? '127.0.0.1'
  const registry = options.registry ?? new Registry()
  const { service } = loadExtProcProto()
  const credentials = await serverCredentials(options)

  const server = new grpc.Server({
    // BUFFERED mode carries whole request and response bodies in one message; allow long prompts (GIE HEAD exposes these
    // as --grpc-max-recv-msg-size / --grpc-max-send-msg-size).
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
    // channelz bookkeeping costs a few percent of CPU per stream and nothing here reads it.
    'grpc.enable_channelz': 0,
  })
  server.addService(
    service,
    createExtProcService({
      picker: options.picker,
      bodyMode: options.bodyMode ?? 'FULL_DUPLEX_STREAMED',
      metrics: createExtProcMetrics(registry),
      disableSubsetFilter: options.disableEndpointSubsetFilter,
      onError: options.onError,
    }),
  )

  const started: { close(): Promise<void> }[] = []
  try {
    const grpcPort = await bind(server, hostPort(host, options.grpcPort), credentials)
    started.push({ close: () => shutdown(server, options.drainTimeoutMs ?? 5_000) })
    const health = await startHealthServer({ port: options.healthPort, host })
    started.push(health)
    const metrics = options.metricsPort === undefined ? undefined : await startMetricsServer({ registry, port: options.metricsPort, host })
    if (metrics) started.push(metrics)
    health.setServing(true)
    return {
      grpcPort,
      healthPort: health.port,
      metricsPort: metrics?.port,
      async close() {
        health.setServing(false)
        await Promise.all(started.map((part) => part.close()))
      },
    }
  } catch (error) {
    await Promise.all(started.map((part) => part.close()))
    if (started.length === 0) server.forceShutdown()
    throw error
  }
}
