import { watch, type FSWatcher } from 'node:fs'
import { basename, dirname } from 'node:path'
import type { Gateway, GatewayListener } from '../config/gateway-schema.js'
import type { Stack } from '../controller/stack.js'
import type { AccessLog } from '../gateway/access-log.js'
import type { BackendResolver } from '../gateway/backend.js'
import { PortServer, type PortListener, type PortServerOptions } from '../gateway/port-server.js'
import { RequestHandler, type HandlerOptions } from '../gateway/request-handler.js'
import { RouteTable } from '../gateway/route-table.js'
import type { UpstreamProxy } from '../gateway/upstream-proxy.js'
import type { AdmissionTable } from './admission-table.js'
import { resolveListenerCertificate, type ListenerCertificate } from './listener-certificates.js'
import type { LocalCertificateAuthority } from './local-certificate-authority.js'

export interface RunningListener {
  gateway: Gateway
  listener: GatewayListener
  url: string
  port: number
  handler: RequestHandler
  certificate?: ListenerCertificate
}

export interface GatewayListenersOptions {
  bindHost: string
  listenerPort?: (gateway: Gateway, listener: GatewayListener) => number
  handler: HandlerOptions
  server: PortServerOptions
  drainMs: number
  log: (line: string) => void
}

const listenerKey = (g: Gateway, l: GatewayListener) => `${g.metadata.namespace}/${g.metadata.name}/${l.name}`

/**
 * Every Gateway listener of the stack, grouped by port (one PortServer per port). `apply` moves to a new configuration:
 * listeners keep their sockets and swap routes and backends atomically, new ports open, removed ports drain and close.
 * Certificate files named by listeners are watched and rotated in place.
 */
export class GatewayListeners {
  readonly #ports = new Map<number, PortServer>()
  readonly #handlers = new Map<string, RequestHandler>()
  #running: RunningListener[] = []
  #watchers: FSWatcher[] = []

  constructor(
    private readonly proxy: UpstreamProxy,
    private readonly accessLog: AccessLog,
    private readonly ca: () => Promise<LocalCertificateAuthority>,
    private readonly options: GatewayListenersOptions,
  ) {}

  get running(): readonly RunningListener[] {
    return this.#running
  }

  async apply(stack: Stack, backends: BackendResolver, admission?: AdmissionTable): Promise<void> {
    const desired: { gateway: Gateway; listener: GatewayListener; port: number; certificate?: ListenerCertificate }[] = []
    for (const gateway of stack.gateways)
      for (const listener of gateway.spec.listeners)
        desired.push({
          gateway,
          listener,
          port: this.options.listenerPort?.(gateway, listener) ?? listener.port,
          ...(listener.protocol === 'HTTPS' ? { certificate: await resolveListenerCertificate(gateway, listener, stack, this.ca) } : {}),
        })

    // Declared ports that are OS-chosen (0) get one server per listener; the others are shared by port.
    const groups = new Map<string, typeof desired>()
    for (const d of desired) {
      const group = d.port === 0 ? `0:${listenerKey(d.gateway, d.listener)}` : String(d.port)
      groups.set(group, [...(groups.get(group) ?? []), d])
    }

    const running: RunningListener[] = []
    const keepPorts = new Set<number>()
    const handlers = new Map<string, RequestHandler>()
    for (const [group, members] of groups) {
      const protocol = members[0]!.listener.protocol
      const existingPort = group.startsWith('0:') ? this.#findPortOf(group.slice(2)) : Number(group)
      let server = existingPort !== undefined ? this.#ports.get(existingPort) : undefined
      if (server && server.protocol !== protocol) server = undefined
      const portListeners: PortListener[] = []
      const pending: RunningListener[] = []
      for (const d of members) {
        const key = listenerKey(d.gateway, d.listener)
        const state = { routes: RouteTable.forListener(stack, d.gateway, d.listener), backends, admission: admission?.forListener(d.gateway, d.listener) }
        const context = { gateway: d.gateway.metadata.name, listener: d.listener.name, scheme: protocol === 'HTTPS' ? ('https' as const) : ('http' as const), port: d.port }
        let handler = this.#handlers.get(key)
        if (handler && server) handler.state = state
        else handler = new RequestHandler(context, state, this.proxy, this.accessLog, this.options.handler)
        handlers.set(key, handler)
        portListeners.push({ handler, hostname: d.listener.hostname, ...(d.certificate ? { certificate: d.certificate } : {}) })
        pending.push({ gateway: d.gateway, listener: d.listener, url: '', port: 0, handler, ...(d.certificate ? { certificate: d.certificate } : {}) })
      }
      if (server) server.setListeners(portListeners)
      else {
        server = new PortServer(protocol, portListeners, this.options.server)
        await server.listen(members[0]!.port, this.options.bindHost)
        this.#ports.set(server.port, server)
      }
      keepPorts.add(server.port)
      const host = this.options.bindHost === '0.0.0.0' || this.options.bindHost === '::' ? 'localhost' : this.options.bindHost
      for (const r of pending) {
        r.port = server.port
        r.url = `${protocol === 'HTTPS' ? 'https' : 'http'}://${host}:${server.port}`
        r.handler.listener.port = server.port
        running.push(r)
      }
    }

    const closing = [...this.#ports].filter(([port]) => !keepPorts.has(port))
    for (const [port] of closing) this.#ports.delete(port)
    this.#running = running
    this.#handlers.clear()
    for (const [k, h] of handlers) this.#handlers.set(k, h)
    this.#watchCertificateFiles(stack)
    await Promise.all(closing.map(([, s]) => s.close(this.options.drainMs)))
  }

  /** Requests in flight on every port. */
  get inFlight(): number {
    let n = 0
    for (const s of this.#ports.values()) n += s.inFlight
    return n
  }

  async close(): Promise<void> {
    for (const w of this.#watchers) w.close()
    this.#watchers = []
    await Promise.all([...this.#ports.values()].map((s) => s.close(this.options.drainMs)))
    this.#ports.clear()
  }

  #findPortOf(key: string): number | undefined {
    return this.#running.find((r) => listenerKey(r.gateway, r.listener) === key)?.port
  }

  /** Certificates from files are re-read when the files change (directory watch: catches atomic renames and symlink swaps). */
  #watchCertificateFiles(stack: Stack): void {
    for (const w of this.#watchers) w.close()
    this.#watchers = []
    const files = new Set(this.#running.flatMap((r) => r.certificate?.files ?? []))
    const dirs = new Set([...files].map((f) => dirname(f)))
    let timer: NodeJS.Timeout | undefined
    for (const dir of dirs) {
      const watcher = watch(dir, (_event, name) => {
        if (name && ![...files].some((f) => basename(f) === name && dirname(f) === dir)) return
        clearTimeout(timer)
        timer = setTimeout(() => void this.#reloadCertificates(stack), 100)
      })
      watcher.on('error', () => {})
      this.#watchers.push(watcher)
    }
  }

  async #reloadCertificates(stack: Stack): Promise<void> {
    try {
      for (const r of this.#running)
        if (r.certificate?.files.length) r.certificate = await resolveListenerCertificate(r.gateway, r.listener, stack, this.ca)
      for (const server of this.#ports.values())
        server.setListeners(
          server.listeners.map((pl) => {
            const r = this.#running.find((x) => x.handler === pl.handler)
            return r?.certificate ? { ...pl, certificate: r.certificate } : pl
          }),
        )
      this.options.log('certificates reloaded')
    } catch (err) {
      this.options.log(`certificate reload failed, keeping the previous certificates: ${(err as Error).message}`)
    }
  }
}
