import type { IncomingHttpHeaders } from 'node:http'
import type { Socket } from 'node:net'
import type { Readable } from 'node:stream'
import { BAD_FIELD_VALUE, TOKEN } from '../config/http-field-syntax.js'
import { ResponseParser, type ResponseEvents } from './upstream-response-parser.js'

/** What drives one forwarded response to the gateway's client, called by the upstream connection as bytes arrive. */
export interface UpstreamHandler {
  /** The exchange has begun; `abort` ends it at any time (the connection is closed and onError gets the reason). */
  onConnect(abort: (reason: Error) => void): void
  /** The final response head (interim 1xx answers are not reported). */
  onHeaders(status: number, headers: IncomingHttpHeaders, resume: () => void): void
  /** Returning false stops reading the upstream until `resume` is called. */
  onData(chunk: Buffer): boolean
  onComplete(): void
  onError(err: Error): void
}

export interface UpstreamRequest {
  readonly method: string
  /** Path and query, as the upstream sees them. */
  readonly path: string
  /** Lower-case names; `host` replaces the origin's authority; the body's framing headers are the connection's own. */
  readonly headers: Readonly<Record<string, string | string[]>>
  /** A buffer is sent with a content-length; a stream with the client's content-length, or chunked. */
  readonly body: Buffer | Readable | null
}

/** The connection failed or closed before the response ended; `code` says how (as socket errors' codes do). */
export class UpstreamSocketError extends Error {
  constructor(
    message: string,
    readonly code: 'UPSTREAM_CLOSED' | 'UPSTREAM_CONNECT_TIMEOUT' | 'UPSTREAM_BAD_REQUEST',
  ) {
    super(message)
    this.name = 'UpstreamSocketError'
  }
}

/** How a connection the upstream closed while idle fails the request written to it. */
const STALE_CLOSE = new Set(['UPSTREAM_CLOSED', 'ECONNRESET', 'EPIPE'])
/** Methods whose request without a body still says `content-length: 0` (undici and Node's client do the same). */
const PAYLOAD_METHODS = new Set(['POST', 'PUT', 'PATCH'])
/** Request bodies up to this size go out in the same write as the head (one buffer, no writev). */
const COALESCE_BYTES = 16 * 1024
/** Node's own client refuses the same: a request target is visible bytes only. */
const BAD_PATH = /[^\u0021-\u00ff]/

/**
 * One keep-alive HTTP/1.1 connection to a model server (plain or TLS), carrying one exchange at a time (no pipelining):
 * the request is written, the response parsed as it arrives and handed to the exchange's handler. It goes back to its pool
 * when a response has ended cleanly with the whole request sent and nothing said against keep-alive; otherwise it is
 * closed. A connection that fails before any response byte reports the socket's own error (ECONNREFUSED, ECONNRESET, …)
 * or UPSTREAM_CLOSED, so that the proxy can retry elsewhere.
 */
export class UpstreamConnection implements ResponseEvents {
  #handler: UpstreamHandler | undefined
  readonly #parser = new ResponseParser(this)
  #received = false
  #requestSent = true
  /** The exchange in flight's request, and how many exchanges this connection has carried (that one included). */
  #request: UpstreamRequest | undefined
  #exchanges = 0
  #stopBody: (() => void) | undefined
  /** Until when (performance.now()) the pool may use it again, once idle. */
  idleUntil = 0
  /** How long the upstream keeps an idle connection open, from the last answer's `keep-alive: timeout=N`; 0 = unsaid. */
  upstreamIdleMs = 0

  constructor(
    readonly socket: Socket,
    /** `host:port` of the origin: the Host header unless the request sets one. */
    private readonly authority: string,
    /** Called with true when the connection may carry another request, with false once it is closed. */
    private readonly release: (connection: UpstreamConnection, reusable: boolean) => void,
    /** Sends an exchange again on a new connection (see #fail). */
    private readonly resend: (request: UpstreamRequest, handler: UpstreamHandler) => void,
  ) {
    socket.setNoDelay(true)
    socket.setKeepAlive(true, 60_000)
    socket.on('data', (data: Buffer) => this.#onSocketData(data))
    socket.on('end', () => this.#onSocketEnd())
    socket.on('error', (err: Error) => this.#fail(err))
    socket.on('close', () => {
      if (this.#handler) this.#fail(this.#closedEarly())
      this.release(this, false)
    })
  }

  send(request: UpstreamRequest, handler: UpstreamHandler): void {
    this.#handler = handler
    this.#request = request
    this.#exchanges++
    this.#received = false
    this.#parser.expect(request.method === 'HEAD')
    handler.onConnect((reason) => {
      if (this.#handler === handler) this.#fail(reason)
    })
    if (this.#handler !== handler) return
    if (this.socket.isPaused()) this.socket.resume()
    let head: string
    try {
      head = requestHead(request, this.authority)
    } catch (err) {
      return this.#fail(err as Error)
    }
    const body = request.body
    if (body === null) {
      this.socket.write(`${head}${PAYLOAD_METHODS.has(request.method) ? 'content-length: 0\r\n' : ''}\r\n`, 'latin1')
    } else if (Buffer.isBuffer(body)) {
      head += `content-length: ${body.length}\r\n\r\n`
      if (body.length <= COALESCE_BYTES) {
        const out = Buffer.allocUnsafe(head.length + body.length)
        out.write(head, 0, 'latin1')
        body.copy(out, head.length)
        this.socket.write(out)
      } else {
        this.socket.cork()
        this.socket.write(head, 'latin1')
        this.socket.write(body)
        this.socket.uncork()
      }
    } else {
      const length = request.headers['content-length']
      const chunked = typeof length !== 'string'
      this.socket.write(`${head}${chunked ? 'transfer-encoding: chunked' : `content-length: ${length}`}\r\n\r\n`, 'latin1')
      this.#requestSent = false
      this.#stopBody = pipeBody(body, this.socket, chunked, (err) => {
        this.#stopBody = undefined
        if (err) {
          if (this.#handler === handler) this.#fail(err)
        } else this.#requestSent = true
      })
    }
  }

  /** Closes the connection (idle, or at shutdown). */
  close(): void {
    this.socket.destroy()
  }

  onHead(status: number, headers: IncomingHttpHeaders): void {
    const handler = this.#handler!
    const keepAlive = headers['keep-alive']
    this.upstreamIdleMs = typeof keepAlive === 'string' ? keepAliveTimeoutMs(keepAlive) : 0
    // A resume that comes after its exchange ended (a client draining late) must not undo the next exchange's pause.
    handler.onHeaders(status, headers, () => {
      if (this.#handler === handler) this.socket.resume()
    })
  }

  onBody(chunk: Buffer): void {
    if (!this.#handler!.onData(chunk)) this.socket.pause()
  }

  onEnd(): void {
    const handler = this.#handler!
    this.#handler = undefined
    this.#request = undefined
    const reusable = this.#parser.keepAlive && this.#requestSent && !this.socket.destroyed
    if (!reusable) {
      this.#stopBody?.()
      this.socket.destroy()
    } else if (this.socket.isPaused()) this.socket.resume() // an idle connection must see the upstream close it
    try {
      handler.onComplete()
    } finally {
      if (reusable) this.release(this, true)
    }
  }

  #onSocketData(data: Buffer): void {
    // Bytes on an idle connection answer no request: whatever they are, the connection cannot be trusted for the next.
    if (!this.#handler) return void this.socket.destroy()
    this.#received = true
    try {
      this.#parser.feed(data)
    } catch (err) {
      // After a response has ended (bytes past its end), there is no exchange to fail, only a connection not to reuse.
      if (this.#handler) this.#fail(err as Error)
      else this.socket.destroy()
    }
  }

  /** The upstream closed its side: that ends a body framed by the close; otherwise the exchange failed. */
  #onSocketEnd(): void {
    if (this.#handler && this.#parser.busy && !this.#parser.closed()) this.#fail(this.#closedEarly())
    this.socket.destroy()
  }

  #closedEarly(): UpstreamSocketError {
    const when = this.#received ? 'before the response ended' : 'before responding'
    return new UpstreamSocketError(`upstream closed the connection ${when}`, 'UPSTREAM_CLOSED')
  }

  /**
   * Ends the exchange in flight with `err` — or, when a reused connection was closed under a request before any answer,
   * sends it again on a new connection, once: the upstream closing an idle keep-alive connection just as a request was
   * written means it never read it (Go's net/http retries the same case, errServerClosedIdle). A body that was streamed
   * cannot be sent again.
   */
  #fail(err: Error): void {
    const handler = this.#handler
    if (!handler) return
    this.#handler = undefined
    this.#parser.stop()
    this.#stopBody?.()
    this.socket.destroy()
    const request = this.#request!
    const replayable = request.body === null || Buffer.isBuffer(request.body)
    if (this.#exchanges > 1 && !this.#received && replayable && STALE_CLOSE.has((err as { code?: string }).code ?? '')) return this.resend(request, handler)
    handler.onError(err)
  }
}

/** `timeout=N` of a Keep-Alive header (RFC 2068 §19.7.1, which Node's and other servers send), in ms; 0 when absent. */
function keepAliveTimeoutMs(value: string): number {
  // A server sends the same value on every answer: parsed once.
  if (value !== lastKeepAlive.value) {
    const match = /(?:^|[\s,])timeout\s*=\s*(\d+)/i.exec(value)
    lastKeepAlive.value = value
    lastKeepAlive.ms = match ? Number(match[1]) * 1_000 : 0
  }
  return lastKeepAlive.ms
}
const lastKeepAlive = { value: '', ms: 0 }

/** The request line and headers, without the body's framing header and the blank line (which the caller adds). */
function requestHead(request: UpstreamRequest, authority: string): string {
  const { method, path, headers } = request
  if (!TOKEN.test(method)) throw new UpstreamSocketError(`invalid request method ${JSON.stringify(method)}`, 'UPSTREAM_BAD_REQUEST')
  if (BAD_PATH.test(path)) throw new UpstreamSocketError(`invalid request path ${JSON.stringify(path)}`, 'UPSTREAM_BAD_REQUEST')
  const host = headers.host
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${typeof host === 'string' ? host : authority}\r\n`
  for (const name in headers) {
    if (name === 'host' || name === 'content-length' || name === 'transfer-encoding') continue
    const value = headers[name]!
    if (typeof value === 'string') head += headerLine(name, value)
    else for (const v of value) head += headerLine(name, v)
  }
  return head
}

function headerLine(name: string, value: string): string {
  if (!TOKEN.test(name) || BAD_FIELD_VALUE.test(value)) throw new UpstreamSocketError(`invalid request header ${JSON.stringify(name)}`, 'UPSTREAM_BAD_REQUEST')
  return `${name}: ${value}\r\n`
}

/**
 * Streams a request body to the upstream (chunk-framed when its length is unknown), pausing the client while the upstream
 * is not draining. `done` gets an error when the client's body breaks off. Returns a stop function: the exchange ended
 * first, and the rest of the body is read and dropped, not sent.
 */
function pipeBody(body: Readable, socket: Socket, chunked: boolean, done: (err?: Error) => void): () => void {
  const onData = (chunk: Buffer) => {
    if (chunk.length === 0) return
    if (chunked) {
      socket.write(`${chunk.length.toString(16)}\r\n`)
      socket.write(chunk)
    }
    if (!socket.write(chunked ? '\r\n' : chunk)) {
      body.pause()
      socket.once('drain', onDrain)
    }
  }
  const onDrain = () => body.resume()
  const onEnd = () => {
    stop()
    if (chunked) socket.write('0\r\n\r\n')
    done()
  }
  const onError = (err: Error) => {
    stop()
    done(err)
  }
  const onClose = () => {
    if (!body.readableEnded) onError(new UpstreamSocketError('the client closed its request before the body ended', 'UPSTREAM_BAD_REQUEST'))
  }
  const stop = () => {
    body.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose)
    socket.off('drain', onDrain)
  }
  body.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose)
  return () => {
    stop()
    body.resume()
  }
}
