import { connect as connectTcp, isIP } from 'node:net'
import { connect as connectTls } from 'node:tls'
import type { EndpointRef } from '../picker/endpoint.js'
import { UpstreamConnection, UpstreamSocketError, type UpstreamHandler, type UpstreamRequest } from './upstream-connection.js'

export interface UpstreamPoolOptions {
  connectTimeoutMs: number
  /**
   * Idle connections are closed after this (below the 5 s of uvicorn, vLLM's server, so the upstream rarely closes first),
   * or a second before the idle timeout the upstream announces (`keep-alive: timeout=N`) when that is shorter.
   */
  keepAliveTimeoutMs: number
}

/** The connections to one origin with one TLS setting. */
interface Origin {
  readonly host: string
  readonly port: number
  readonly authority: string
  readonly secure: boolean
  readonly endpoint: EndpointRef
  /** Most recently used last: the next request takes the warmest connection, the sweep closes the coldest. */
  readonly idle: UpstreamConnection[]
}

/**
 * Keep-alive connections to every model server, one request at a time on each: a request takes an idle connection to its
 * endpoint's origin or opens one (TLS with the endpoint's CA, SNI and verification settings), and the connection comes back
 * when its response has ended cleanly. An idle connection past its keep-alive time is not used again; a sweep once a second
 * closes those (no timer per request).
 */
export class UpstreamPool {
  /** By origin URL and TLS setting; endpoints are resolved once each (they are long-lived objects). */
  readonly #origins = new Map<string, Origin>()
  readonly #byEndpoint = new WeakMap<EndpointRef, Origin>()
  /** Every open connection, busy or idle. */
  readonly #open = new Set<UpstreamConnection>()
  readonly #sweep: NodeJS.Timeout
  #closing = false
  #closed: (() => void) | undefined

  constructor(private readonly options: UpstreamPoolOptions) {
    this.#sweep = setInterval(() => this.#closeIdle(performance.now()), 1_000).unref()
  }

  dispatch(endpoint: EndpointRef, request: UpstreamRequest, handler: UpstreamHandler): void {
    if (this.#closing) {
      handler.onConnect(() => {})
      return handler.onError(new UpstreamSocketError('the gateway is shutting down', 'UPSTREAM_CLOSED'))
    }
    const origin = this.#byEndpoint.get(endpoint) ?? this.#resolve(endpoint)
    const now = performance.now()
    let connection = origin.idle.pop()
    while (connection && connection.idleUntil < now) {
      connection.close()
      connection = origin.idle.pop()
    }
    ;(connection ?? this.#connect(origin)).send(request, handler)
  }

  /** Closes idle connections now and the others as their exchanges end; resolves once none is open. */
  close(): Promise<void> {
    this.#closing = true
    clearInterval(this.#sweep)
    this.#closeIdle(Infinity)
    if (this.#open.size === 0) return Promise.resolve()
    return new Promise((resolve) => (this.#closed = resolve))
  }

  #resolve(endpoint: EndpointRef): Origin {
    const tls = endpoint.tls
    const key = tls ? `${endpoint.url} ${JSON.stringify([tls.ca ?? '', tls.serverName ?? '', tls.insecureSkipVerify ?? false])}` : endpoint.url
    let origin = this.#origins.get(key)
    if (!origin) {
      const url = new URL(endpoint.url)
      const secure = url.protocol === 'https:'
      const port = Number(url.port || (secure ? 443 : 80))
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
      origin = { host, port, authority: url.host, secure, endpoint, idle: [] }
      this.#origins.set(key, origin)
    }
    this.#byEndpoint.set(endpoint, origin)
    return origin
  }

  #connect(origin: Origin): UpstreamConnection {
    const tls = origin.endpoint.tls
    const serverName = tls?.serverName ?? (isIP(origin.host) ? undefined : origin.host)
    const socket = origin.secure
      ? connectTls({
          host: origin.host,
          port: origin.port,
          ALPNProtocols: ['http/1.1'],
          ...(serverName ? { servername: serverName } : {}),
          ...(tls?.ca ? { ca: tls.ca } : {}),
          rejectUnauthorized: !tls?.insecureSkipVerify,
        })
      : connectTcp({ host: origin.host, port: origin.port })
    const timeoutMs = this.options.connectTimeoutMs
    const timer = setTimeout(() => socket.destroy(new UpstreamSocketError(`connect timeout after ${timeoutMs} ms to ${origin.authority}`, 'UPSTREAM_CONNECT_TIMEOUT')), timeoutMs)
    socket.once(origin.secure ? 'secureConnect' : 'connect', () => clearTimeout(timer))
    socket.once('close', () => clearTimeout(timer))
    const connection = new UpstreamConnection(
      socket,
      origin.authority,
      (c, reusable) => this.#release(origin, c, reusable),
      (request, handler) => this.#connect(origin).send(request, handler),
    )
    this.#open.add(connection)
    return connection
  }

  #release(origin: Origin, connection: UpstreamConnection, reusable: boolean): void {
    if (!reusable) {
      const at = origin.idle.indexOf(connection)
      if (at >= 0) origin.idle.splice(at, 1)
      this.#open.delete(connection)
      if (this.#closing && this.#open.size === 0) this.#closed?.()
      return
    }
    const announced = connection.upstreamIdleMs
    const idleMs = announced > 0 ? Math.min(this.options.keepAliveTimeoutMs, announced - 1_000) : this.options.keepAliveTimeoutMs
    if (this.#closing || idleMs <= 0) return connection.close()
    connection.idleUntil = performance.now() + idleMs
    origin.idle.push(connection)
  }

  /** Closes idle connections whose time ends before `now`. */
  #closeIdle(now: number): void {
    for (const origin of this.#origins.values()) {
      const idle = origin.idle
      let kept = 0
      for (const connection of idle) {
        if (connection.idleUntil < now) connection.close()
        else idle[kept++] = connection
      }
      idle.length = kept
    }
  }
}
