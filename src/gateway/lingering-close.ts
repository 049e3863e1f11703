import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'

/** How long a closing connection goes on reading what the client still sends: at most, and once the client is quiet. */
export interface LingerLimits {
  maxMs: number
  idleMs: number
}

/** nginx waits up to 30 s (lingering_time) and 5 s quiet (lingering_timeout); a client that has its answer stops far sooner. */
const DEFAULT_LINGER: LingerLimits = { maxMs: 5_000, idleMs: 1_000 }

/**
 * Makes the `connection: close` answer to `req` close its connection as nginx's `lingering_close` does. The answer and a
 * FIN go out; then the rest of the request body is read and dropped until the client ends its side, sends nothing for
 * `idleMs` (up to twice that, as it is checked), or `maxMs` have passed; only then is the socket destroyed. Destroying it
 * at once, with the client still uploading, makes the kernel answer the unread bytes with a reset, and the client then
 * loses the answer too: fetch sees EPIPE or ECONNRESET instead of its 413. Node's HTTP server calls `socket.destroySoon()`
 * once such an answer is written, so that one socket's destroySoon is replaced.
 */
export function lingerOnClose(req: IncomingMessage, limits: LingerLimits = DEFAULT_LINGER): void {
  const socket: Socket = req.socket
  socket.destroySoon = () => {
    if (socket.destroyed) return
    const close = () => {
      clearTimeout(deadline)
      clearInterval(quiet)
      socket.destroy()
    }
    const deadline = setTimeout(close, limits.maxMs)
    // The HTTP parser reads the socket itself (no 'data' events), so progress is seen in its byte count.
    let bytesRead = socket.bytesRead
    const quiet = setInterval(() => (socket.bytesRead === bytesRead ? close() : (bytesRead = socket.bytesRead)), limits.idleMs)
    socket.end()
    socket.once('end', close)
    socket.once('close', close)
    req.resume()
  }
}
