import type { IncomingHttpHeaders } from 'node:http'
import { BAD_FIELD_VALUE, TOKEN } from '../config/http-field-syntax.js'

/** What the parser reports, in order: one head, body pieces (slices of the fed buffers, not copies), the end. */
export interface ResponseEvents {
  onHead(status: number, headers: IncomingHttpHeaders): void
  onBody(chunk: Buffer): void
  onEnd(): void
}

/** The upstream answered something that is not HTTP/1.1 (or is ambiguous, as a body framed two ways is): never forwarded. */
export class UpstreamProtocolError extends Error {
  readonly code = 'UPSTREAM_PROTOCOL_ERROR'
  constructor(message: string) {
    super(`upstream sent an invalid HTTP response: ${message}`)
    this.name = 'UpstreamProtocolError'
  }
}

/** Longest response head accepted (status line and headers); Envoy's default header limit is 60 KiB. */
export const MAX_HEAD_BYTES = 64 * 1024
/** Longest chunk-size or trailer line. */
const MAX_LINE_BYTES = 8 * 1024
const HEAD_END = Buffer.from('\r\n\r\n')
const LF = 10
const CR = 13

const enum State {
  Idle,
  Head,
  FixedBody,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Failed,
}

/**
 * An HTTP/1.1 response parser for the gateway's upstream connections (RFC 9112): status line and headers, then a body
 * framed by content-length, by chunked transfer coding (extensions ignored, trailers read and dropped) or by the connection
 * closing. Interim 1xx answers are skipped; 101 is refused (the gateway does not tunnel upgrades). Anything ambiguous —
 * content-length and transfer-encoding together, differing content-lengths, obsolete line folding, bytes after the end —
 * is an UpstreamProtocolError, as in llhttp's strict mode, so a response cannot be read two ways.
 *
 * Written for the proxy's hot path rather than taken from undici, whose client the gateway used before: the exchange
 * through undici's dispatcher cost 10–15 µs of CPU per proxied request more (≈ 10 %; docs/architecture.md).
 */
export class ResponseParser {
  #state = State.Idle
  #noBody = false
  #keepAlive = false
  #left = 0
  /** A head split across reads, until its end arrives: the pieces, their length, and the last three bytes. */
  #headParts: Buffer[] | undefined
  #headLength = 0
  #headTail: Buffer | undefined
  /** The chunk-size or trailer line last read, and the start of one split across reads. */
  #line = ''
  #partial = ''

  constructor(private readonly events: ResponseEvents) {}

  /** Expects the response to one request; `noBody` for HEAD requests, whose responses carry none. */
  expect(noBody: boolean): void {
    this.#state = State.Head
    this.#noBody = noBody
    this.#headParts = undefined
    this.#headTail = undefined
    this.#headLength = 0
    this.#partial = ''
  }

  /** Whether a response is expected or being read. */
  get busy(): boolean {
    return this.#state !== State.Idle && this.#state !== State.Failed
  }

  /** Whether the connection may carry another request once this response has ended. */
  get keepAlive(): boolean {
    return this.#keepAlive
  }

  /** Stops reading: the events see nothing more (the exchange was aborted). */
  stop(): void {
    this.#state = State.Failed
  }

  /** Reads `data`; throws UpstreamProtocolError. Bytes past the end of the response (none are expected) are an error. */
  feed(data: Buffer): void {
    const n = data.length
    let i = 0
    while (i < n) {
      switch (this.#state) {
        case State.Head:
          i = this.#readHead(data, i)
          break
        case State.FixedBody: {
          const take = Math.min(this.#left, n - i)
          this.events.onBody(i === 0 && take === n ? data : data.subarray(i, i + take))
          i += take
          this.#left -= take
          if (this.#left === 0 && this.#state === State.FixedBody) this.#end()
          break
        }
        case State.ChunkSize: {
          const next = this.#readLine(data, i)
          if (next < 0) return
          i = next
          this.#chunkSize(this.#line)
          break
        }
        case State.ChunkData: {
          const take = Math.min(this.#left, n - i)
          this.events.onBody(data.subarray(i, i + take))
          i += take
          this.#left -= take
          if (this.#left === 0 && this.#state === State.ChunkData) this.#state = State.ChunkDataEnd
          break
        }
        case State.ChunkDataEnd: {
          const next = this.#readLine(data, i)
          if (next < 0) return
          i = next
          if (this.#line !== '') throw new UpstreamProtocolError('chunk data longer than its size')
          this.#state = State.ChunkSize
          break
        }
        case State.Trailers: {
          const next = this.#readLine(data, i)
          if (next < 0) return
          i = next
          if (this.#line === '') this.#end()
          break
        }
        case State.UntilClose:
          this.events.onBody(i === 0 ? data : data.subarray(i))
          return
        case State.Idle:
          throw new UpstreamProtocolError('bytes after the end of the response')
        case State.Failed:
          return
      }
    }
  }

  /** The connection closed: true when that ended a body framed by the close (onEnd has run), false when it cut one short. */
  closed(): boolean {
    if (this.#state !== State.UntilClose) return false
    this.#end()
    return true
  }

  /** Reads head bytes from `i`; returns where reading goes on (past the head, or `data.length` while it is incomplete). */
  #readHead(data: Buffer, i: number): number {
    const parts = this.#headParts
    if (parts === undefined) {
      const end = data.indexOf(HEAD_END, i)
      if (end >= 0 && end - i <= MAX_HEAD_BYTES) {
        this.#onHead(data.toString('latin1', i, end))
        return end + 4
      }
      if (end >= 0 || data.length - i > MAX_HEAD_BYTES) throw headTooLong()
      this.#saveHead([], data.subarray(i))
      return data.length
    }
    // A head split across reads: its CRLFCRLF may begin in the last three bytes saved. The saved pieces are joined only once
    // the end is found, so a head trickling in byte by byte costs linear time, not quadratic.
    const tail = this.#headTail!
    const window = Buffer.concat([tail, data.subarray(i)])
    const found = window.indexOf(HEAD_END)
    const saved = this.#headLength
    if (found < 0) {
      if (saved + data.length - i > MAX_HEAD_BYTES) throw headTooLong()
      this.#saveHead(parts, data.subarray(i))
      return data.length
    }
    // Head bytes taken from `data` (negative when the head ended within the saved tail).
    const fromData = found - tail.length
    if (saved + fromData > MAX_HEAD_BYTES) throw headTooLong()
    const head = Buffer.concat([...parts, data.subarray(i, i + Math.max(0, fromData))])
    this.#headParts = undefined
    this.#headTail = undefined
    this.#headLength = 0
    this.#onHead(head.toString('latin1', 0, saved + fromData))
    return i + fromData + 4
  }

  #saveHead(parts: Buffer[], piece: Buffer): void {
    parts.push(piece)
    this.#headParts = parts
    this.#headLength += piece.length
    const tail = this.#headTail ? Buffer.concat([this.#headTail, piece]) : piece
    this.#headTail = tail.subarray(Math.max(0, tail.length - 3))
  }

  #onHead(text: string): void {
    const lines = text.split('\r\n')
    const status = statusOf(lines[0]!)
    const headers: IncomingHttpHeaders = {}
    for (let k = 1; k < lines.length; k++) addHeader(headers, lines[k]!)
    if (status < 200) {
      if (status === 101) throw new UpstreamProtocolError('101 Switching Protocols: upgrades are not proxied')
      return // an interim answer (100 Continue, 103 Early Hints): the final one follows
    }
    const http11 = lines[0]!.charCodeAt(7) === 49 /* '1' */
    this.#keepAlive = http11 && !hasToken(headers.connection, 'close')
    const te = headers['transfer-encoding']
    const cl = headers['content-length']
    if (this.#noBody || status === 204 || status === 304) {
      this.#state = State.Idle
      this.events.onHead(status, headers)
      if (this.#state === State.Idle) this.events.onEnd()
      return
    }
    if (te !== undefined) {
      if (cl !== undefined) throw new UpstreamProtocolError('both content-length and transfer-encoding')
      // Chunked must be the last coding; any other framing is read until the connection closes (RFC 9112 §6.3).
      if (lastCoding(te) === 'chunked') this.#state = State.ChunkSize
      else this.#untilClose()
    } else if (cl !== undefined) {
      this.#left = contentLength(cl)
      this.#state = State.FixedBody
    } else this.#untilClose()
    this.events.onHead(status, headers)
    if (this.#state === State.FixedBody && this.#left === 0) this.#end()
  }

  #untilClose(): void {
    this.#keepAlive = false
    this.#state = State.UntilClose
  }

  #chunkSize(line: string): void {
    let size = 0
    let k = 0
    for (; k < line.length; k++) {
      const digit = hexDigit(line.charCodeAt(k))
      if (digit < 0) break
      size = size * 16 + digit
    }
    const rest = line.charCodeAt(k)
    if (k === 0 || k > 12 || (k < line.length && rest !== 59 /* ';' */ && rest !== 32 && rest !== 9)) throw new UpstreamProtocolError(`bad chunk size ${JSON.stringify(line.slice(0, 40))}`)
    if (size === 0) this.#state = State.Trailers
    else {
      this.#left = size
      this.#state = State.ChunkData
    }
  }

  /** Reads one CRLF-ended line into #line; returns the index past it, or -1 when the line continues in the next read. */
  #readLine(data: Buffer, i: number): number {
    const lf = data.indexOf(LF, i)
    if (lf < 0) {
      this.#partial += data.toString('latin1', i)
      if (this.#partial.length > MAX_LINE_BYTES) throw new UpstreamProtocolError('chunk-size or trailer line too long')
      return -1
    }
    const piece = data.toString('latin1', i, lf)
    const line = this.#partial === '' ? piece : this.#partial + piece
    this.#partial = ''
    if (line.charCodeAt(line.length - 1) !== CR) throw new UpstreamProtocolError('line not ended by CRLF')
    this.#line = line.slice(0, -1)
    return lf + 1
  }

  #end(): void {
    this.#state = State.Idle
    this.#partial = ''
    this.events.onEnd()
  }
}

const headTooLong = () => new UpstreamProtocolError(`response head over ${MAX_HEAD_BYTES} bytes`)

function statusOf(line: string): number {
  const bad = () => new UpstreamProtocolError(`bad status line ${JSON.stringify(line.slice(0, 40))}`)
  // HTTP/1.x SSS[ reason]
  if (!line.startsWith('HTTP/1.') || (line.charCodeAt(7) !== 48 && line.charCodeAt(7) !== 49) || line.charCodeAt(8) !== 32) throw bad()
  let status = 0
  for (let k = 9; k < 12; k++) {
    const c = line.charCodeAt(k) - 48
    if (!(c >= 0 && c <= 9)) throw bad()
    status = status * 10 + c
  }
  if (line.length > 12 && line.charCodeAt(12) !== 32) throw bad()
  if (status < 100) throw new UpstreamProtocolError(`bad status ${status}`)
  return status
}

function addHeader(headers: IncomingHttpHeaders, line: string): void {
  const colon = line.indexOf(':')
  if (colon <= 0) throw new UpstreamProtocolError(line.length > 0 && (line[0] === ' ' || line[0] === '\t') ? 'obsolete line folding' : `bad header line ${JSON.stringify(line.slice(0, 40))}`)
  const name = line.slice(0, colon).toLowerCase()
  if (!TOKEN.test(name)) throw new UpstreamProtocolError(`bad header name ${JSON.stringify(name.slice(0, 40))}`)
  const value = trimOws(line, colon + 1)
  if (BAD_FIELD_VALUE.test(value)) throw new UpstreamProtocolError(`bad value for header ${name}`)
  const previous = headers[name]
  // Repeated fields stay separate (set-cookie must; the others reach the client as they came).
  if (previous === undefined) headers[name] = value
  else if (Array.isArray(previous)) previous.push(value)
  else headers[name] = [previous, value]
}

function trimOws(line: string, from: number): string {
  let start = from
  let end = line.length
  while (start < end && (line.charCodeAt(start) === 32 || line.charCodeAt(start) === 9)) start++
  while (end > start && (line.charCodeAt(end - 1) === 32 || line.charCodeAt(end - 1) === 9)) end--
  return line.slice(start, end)
}

/** Repeated content-lengths must agree; a single one (nearly every response) is checked without building an array. */
function contentLength(value: string | string[]): number {
  const bad = (text: string) => new UpstreamProtocolError(`bad content-length ${JSON.stringify(text.slice(0, 40))}`)
  if (typeof value !== 'string') {
    if (value.some((v) => v !== value[0])) throw bad(value.join(', '))
    value = value[0]!
  }
  if (!DIGITS.test(value)) throw bad(value)
  return Number(value)
}
const DIGITS = /^\d{1,15}$/

function lastCoding(te: string | string[]): string {
  const all = Array.isArray(te) ? te.join(',') : te
  return all.slice(all.lastIndexOf(',') + 1).trim().toLowerCase()
}

function hasToken(value: string | string[] | undefined, token: string): boolean {
  if (value === undefined) return false
  // The common case, one token (`connection: keep-alive` on every answer of a Node server), needs no split.
  if (typeof value === 'string' && !value.includes(',')) return value.trim().toLowerCase() === token
  const all = (Array.isArray(value) ? value.join(',') : value).toLowerCase()
  return all.split(',').some((t) => t.trim() === token)
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}
