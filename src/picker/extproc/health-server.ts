import * as grpc from '@grpc/grpc-js'
import { HealthImplementation } from 'grpc-health-check'
import { EXT_PROC_SERVICE_NAME } from './ext-proc-proto.js'
import { bind, hostPort, shutdown } from './grpc-server-lifecycle.js'

/** The services GIE's health server reports (`--grpc-health-port`): Kubernetes probes and Envoy's grpc_health_check use them. */
export const HEALTH_SERVICES = ['liveness', 'readiness', EXT_PROC_SERVICE_NAME] as const

export interface HealthServer {
  readonly port: number
  /** Readiness and the ext_proc service flip to NOT_SERVING (e.g. while draining); liveness stays SERVING. */
  setServing(serving: boolean): void
  close(): Promise<void>
}

/**
 * grpc.health.v1.Health on its own plaintext port, as GIE serves it (probes do not speak TLS), via the grpc-node team's
 * `grpc-health-check` (Check and Watch). The overall service "" follows readiness.
 */
export async function startHealthServer(options: { port: number; host: string }): Promise<HealthServer> {
  // Not ready until the ext_proc port is bound (startExtProcServer flips it); liveness is true from the start.
  const health = new HealthImplementation(Object.fromEntries(['', ...HEALTH_SERVICES].map((service) => [service, service === 'liveness' ? 'SERVING' : 'NOT_SERVING'])))
  const server = new grpc.Server()
  health.addToServer(server)
  const port = await bind(server, hostPort(options.host, options.port), grpc.ServerCredentials.createInsecure())
  const setServing = (serving: boolean) => {
    const status = serving ? 'SERVING' : 'NOT_SERVING'
    for (const service of ['', ...HEALTH_SERVICES]) if (service !== 'liveness') health.setStatus(service, status)
  }
  return { port, setServing, close: () => shutdown(server, 0) }
}
