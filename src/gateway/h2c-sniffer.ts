import type { Server } from 'node:http'
import type { Http2Server } from 'node:http2'
import type { Socket } from 'node:net'

/** What a cleartext HTTP/2 client with prior knowledge sends first (RFC 9113 §3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')

type ConnectionListener = (this: Server, socket: Socket) => void

/**
 * Lets a plain-HTTP port also speak cleartext HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3): each new connection's
 * first bytes are read once; the HTTP/2 preface hands the socket to `http2`, anything else to `http1`, which then serves
 * it exactly as before (its own parser reads the socket from the second chunk on: nothing changes per request). The
 * HTTP/1.1 `Upgrade: h2c` dance is not offered: RFC 9113 removed it.
 *
 * `http1` keeps the port: its connection tracking (timeouts, closeIdleConnections) only sees connections its own
 * 'connection' listener set up, so that listener is taken off and run once the bytes say HTTP/1.1.
 */
export class H2cSniffer {
  readonly #serveHttp1: ConnectionListener[]
  /** Connections that have not yet said which protocol they speak. */
  readonly #pending = new Set<Socket>()

  constructor(
    private readonly http1: Server,
    private readonly http2: Http2Server,
    /** How long a connection may take to show its protocol; then HTTP/1.1 answers it as a head sent too slowly (408). */
    private readonly timeoutMs: number,
  ) {
    this.#serveHttp1 = http1.listeners('connection') as ConnectionListener[]
    http1.removeAllListeners('connection')
    http1.on('connection', (socket: Socket) => this.#sniff(socket))
  }

  /** On shutdown: a connection that has sent no request has nothing to drain. */
  destroyPending(): void {
    for (const socket of this.#pending) socket.destroy()
  }

  #sniff(socket: Socket): void {
    let seen: Buffer | undefined
    const settle = () => {
      clearTimeout(timer)
      this.#pending.delete(socket)
      socket.off('readable', onReadable).off('end', onEnd).off('close', settle).off('error', ignore)
    }
    const onReadable = () => {
      const chunk = socket.read() as Buffer | null
      if (chunk === null) return
      seen = seen ? Buffer.concat([seen, chunk]) : chunk
      const n = Math.min(seen.length, PREFACE.length)
      const preface = seen.compare(PREFACE, 0, n, 0, n) === 0
      if (preface && n < PREFACE.length) return // a preface split across packets: wait for the rest
      settle()
      socket.unshift(seen)
      if (preface) this.http2.emit('connection', socket)
      else this.#toHttp1(socket)
    }
    // The client half-closed before its protocol was clear: there is no request to answer.
    const onEnd = () => {
      settle()
      socket.destroy()
    }
    const timer = setTimeout(() => {
      settle()
      if (seen) socket.unshift(seen)
      this.#toHttp1(socket)
      // Node's HTTP/1.1 server reports a silent connection so; its 'clientError' listener answers 408.
      const timedOut = Object.assign(new Error('the request was not received in time'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' })
      if (!this.http1.emit('clientError', timedOut, socket)) socket.destroy()
    }, this.timeoutMs)
    this.#pending.add(socket)
    socket.on('readable', onReadable).on('end', onEnd).on('close', settle).on('error', ignore)
  }

  #toHttp1(socket: Socket): void {
    for (const listener of this.#serveHttp1) listener.call(this.http1, socket)
  }
}

/** A socket error while sniffing destroys the socket; 'close' then cleans up. */
const ignore = () => {}
