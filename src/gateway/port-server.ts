import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import {
  createServer as createHttp2Server,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type ServerHttp2Session,
} from 'node:http2'
import type { AddressInfo, Socket } from 'node:net'
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls'
import { hostnameMatches } from '../controller/hostname-match.js'
import { H2cSniffer } from './h2c-sniffer.js'
import { openAIErrorBody, sendOpenAIError } from './openai-error.js'
import { requestHost, type RequestHandler } from './request-handler.js'

/** One Gateway listener served on a port: its handler, hostname, and (HTTPS) certificate. */
export interface PortListener {
  readonly handler: RequestHandler
  readonly hostname: string | undefined
  readonly certificate?: { cert: string; key: string }
}

export interface PortServerOptions {
  /** Largest request head accepted (431 past it). */
  maxHeaderBytes: number
  /** Time to receive the request head (slow-client protection; 408 past it). */
  headersTimeoutMs: number
  /** Time to receive the whole request, body included (408 past it); 0 = none. */
  requestTimeoutMs: number
  /** Idle keep-alive connections are closed after this. */
  keepAliveTimeoutMs: number
}

type AnyServer = Server | HttpsServer

/**
 * A TCP port shared by every listener of the same protocol on it (Gateway API allows several listeners per port, told
 * apart by hostname). HTTP is HTTP/1.1 and cleartext HTTP/2 with prior knowledge (h2c), told apart by the connection's first
 * bytes; HTTPS negotiates HTTP/2 or HTTP/1.1 by ALPN and picks the certificate by SNI.
 * The listener set can be replaced at any time (reload, certificate rotation) without closing the port.
 */
export class PortServer {
  #listeners: readonly PortListener[] = []
  #contexts = new Map<PortListener, SecureContext>()
  readonly #server: AnyServer
  /**
   * Requests whose response has not closed: a count, not a Set of responses. A long-lived hash table that takes and drops
   * an entry per request ends up in V8's old space, and from then on every table it is rehashed into does too; each
   * table it leaves behind still holds the responses that were in it, as old-to-new references that every scavenge
   * follows until the next full GC. The scavenger then copies and promotes whole requests' object graphs after they
   * have ended: 10× the young-generation survival and ≈ 1.4× the CPU per request, for as long as the process runs
   * (docs/architecture.md, "No per-request objects in long-lived hash tables").
   */
  #inFlight = 0
  /** HTTP/2 connections (h2c or over TLS), told to stop (GOAWAY) on close: they are not Node's HTTP/1.1 connections. */
  readonly #sessions = new Set<ServerHttp2Session>()
  readonly #sniffer: H2cSniffer | undefined
  #closing = false
  #port = 0

  constructor(
    readonly protocol: 'HTTP' | 'HTTPS',
    listeners: readonly PortListener[],
    options: PortServerOptions,
  ) {
    const handleHttp1 = (req: IncomingMessage, res: ServerResponse) => this.#dispatch(req, res)
    // node:http2 applies its SETTINGS only once the client has acknowledged them: the header lists of requests sent before
    // that (a client's first flight) are measured here. HTTP/2 requests only: HTTP/1.1 never pays for it.
    const handleHttp2 = (req: Http2ServerRequest, res: Http2ServerResponse) =>
      headerListSize(req.rawHeaders) > options.maxHeaderBytes ? sendOpenAIError(res, 431, HEADERS_TOO_LARGE, 'headers_too_large') : this.#dispatch(req, res)
    // The port's HTTP/2 connections, h2c or over TLS, are handed to this server (it does not listen itself). HTTP/2 bounds
    // the header list through SETTINGS; node:http2 resets a stream whose headers exceed it (no request exists).
    const http2 = createHttp2Server({ settings: { maxHeaderListSize: options.maxHeaderBytes } }, handleHttp2)
    this.#serveSessions(http2, options.keepAliveTimeoutMs)
    // HTTP/1.1, plain or over TLS, has the same limits.
    const http1Options = {
      keepAlive: true,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      maxHeaderSize: options.maxHeaderBytes,
      requestTimeout: options.requestTimeoutMs,
      headersTimeout: options.headersTimeoutMs,
      // How often Node checks those two timeouts (its default, 30 s, would let a slow client hold a socket that long).
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, options.headersTimeoutMs / 4)),
    }
    if (protocol === 'HTTP') {
      const server = createServer(http1Options, handleHttp1)
      this.#server = server
      this.#sniffer = new H2cSniffer(server, http2, options.headersTimeoutMs)
    } else {
      // Idle keep-alive connections close as on HTTP ports (Node arms that timer only between requests); HTTP/2 connections
      // are handed over to `http2` by ALPN.
      const server = createHttpsServer(
        { ...http1Options, ALPNProtocols: ['h2', 'http/1.1'], SNICallback: (name, cb) => cb(null, this.#contextFor(name)) },
        handleHttp1,
      )
      handOverHttp2(server, http2)
      this.#server = server
    }
    this.#server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(err, socket))
    this.setListeners(listeners)
  }

  get port(): number {
    return this.#port
  }

  get listeners(): readonly PortListener[] {
    return this.#listeners
  }

  /** Replaces the listeners (and certificates) served on this port; connections stay open. */
  setListeners(listeners: readonly PortListener[]): void {
    const contexts = new Map<PortListener, SecureContext>()
    for (const l of listeners) if (l.certificate) contexts.set(l, createSecureContext({ cert: l.certificate.cert, key: l.certificate.key }))
    this.#listeners = listeners
    this.#contexts = contexts
    const first = listeners.find((l) => l.certificate)
    if (this.protocol === 'HTTPS' && first?.certificate)
      (this.#server as HttpsServer).setSecureContext({ cert: first.certificate.cert, key: first.certificate.key })
  }

  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject)
        resolve()
      })
    })
    this.#port = (this.#server.address() as AddressInfo).port
    return this.#port
  }

  /** Requests whose response has not finished. */
  get inFlight(): number {
    return this.#inFlight
  }

  /**
   * Stops accepting and waits for in-flight requests (streams included) to finish, closing idle keep-alive connections as
   * they become idle and telling HTTP/2 clients to go away once their open streams are done; at the deadline the remaining
   * connections are cut.
   */
  async close(deadlineMs: number): Promise<void> {
    this.#closing = true
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()))
    const server = this.#server as Server
    const sweep = setInterval(() => server.closeIdleConnections?.(), 50)
    // Cutting every connection cuts every response still in flight: HTTP/1.1 ones are Node's connections, HTTP/2 streams
    // live in the sessions.
    const deadline = setTimeout(() => {
      server.closeAllConnections?.()
      for (const session of this.#sessions) session.destroy()
    }, deadlineMs)
    server.closeIdleConnections?.()
    this.#sniffer?.destroyPending()
    for (const session of this.#sessions) session.close()
    await closed
    clearInterval(sweep)
    clearTimeout(deadline)
  }

  /**
   * HTTP/2 sessions (h2c or over TLS) quiet for the keep-alive timeout get GOAWAY: no new streams, open ones finish (a
   * server-wide setTimeout would destroy the session instead, cutting a stream silent that long, such as a long
   * non-streamed completion). They are tracked, to be told to go away on close.
   */
  #serveSessions(server: Http2Server, keepAliveTimeoutMs: number): void {
    server.on('session', (session: ServerHttp2Session) => {
      session.setTimeout(keepAliveTimeoutMs, () => session.close())
      // A connection accepted just before close() is told to go away as soon as it is an HTTP/2 session.
      if (this.#closing) session.close()
      this.#sessions.add(session)
      session.once('close', () => this.#sessions.delete(session))
    })
  }

  /** Made once: the handler calls it from the 'close' listener it adds anyway, so a request costs one listener, not two. */
  readonly #release = (): void => void this.#inFlight--

  #dispatch(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void {
    this.#inFlight++
    const host = requestHost(req)
    const listener = this.#listenerFor(host)
    if (!listener) {
      res.on('close', this.#release)
      sendOpenAIError(res, 404, `no listener on port ${this.#port} accepts host ${JSON.stringify(host)}`, 'listener_not_found')
      return
    }
    listener.handler.handle(req, res, host, this.#release)
  }

  /** Most specific hostname first: exact, then the longest wildcard, then a listener without hostname. */
  #listenerFor(host: string): PortListener | undefined {
    let best: PortListener | undefined
    let bestRank = -1
    for (const l of this.#listeners) {
      const rank = l.hostname === undefined ? 0 : !hostnameMatches(l.hostname, host) ? -1 : l.hostname.startsWith('*.') ? l.hostname.length : 10_000
      if (rank > bestRank) {
        best = l
        bestRank = rank
      }
    }
    return best
  }

  #contextFor(serverName: string): SecureContext | undefined {
    const listener = this.#listenerFor(serverName)
    return (listener && this.#contexts.get(listener)) ?? this.#contexts.values().next().value
  }
}

const HEADERS_TOO_LARGE = 'request headers exceed the limit'

/**
 * The size SETTINGS_MAX_HEADER_LIST_SIZE bounds: name and value octets plus 32 per field (RFC 9113 §6.5.2). node:http2
 * decodes header octets one per character, and `rawHeaders` alternates names and values (so 16 per entry).
 */
function headerListSize(rawHeaders: readonly string[]): number {
  let size = 16 * rawHeaders.length
  for (const entry of rawHeaders) size += entry.length
  return size
}

/**
 * HTTPS: ALPN has picked the protocol once the TLS handshake is done. HTTP/2 connections go to `http2` (the port's one
 * HTTP/2 server, as h2c connections do); the others stay with `tls`'s own HTTP/1.1 listener. One check per connection,
 * none per request.
 */
function handOverHttp2(tls: HttpsServer, http2: Http2Server): void {
  const serveHttp1 = tls.listeners('secureConnection') as ((socket: TLSSocket) => void)[]
  tls.removeAllListeners('secureConnection')
  tls.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol === 'h2') http2.emit('connection', socket)
    else for (const listener of serveHttp1) listener.call(tls, socket)
  })
}

/** Errors Node detects before a request exists (oversized head, slow client, bad syntax) still get OpenAI-shaped JSON. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || (err.code === 'ECONNRESET' && !socket.readable)) {
    socket.destroy()
    return
  }
  const [status, text, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', HEADERS_TOO_LARGE]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'the request was not received in time']
        : [400, 'Bad Request', `malformed request: ${err.message}`]
  const body = openAIErrorBody(status, message, status === 431 ? 'headers_too_large' : status === 408 ? 'request_timeout' : 'bad_request')
  socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
}
