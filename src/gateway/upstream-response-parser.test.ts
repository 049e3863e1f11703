import type { IncomingHttpHeaders } from 'node:http'
import { describe, expect, it } from 'vitest'
import { MAX_HEAD_BYTES, ResponseParser, UpstreamProtocolError } from './upstream-response-parser.js'

interface Parsed {
  status: number
  headers: IncomingHttpHeaders
  body: string
  ended: boolean
  keepAlive: boolean
}

/** Feeds `wire` to a parser in pieces of the given sizes (cycled); returns what it reported. */
function parse(wire: string, pieces: readonly number[] = [wire.length], noBody = false, closeAtEnd = false): Parsed {
  const out: Parsed = { status: 0, headers: {}, body: '', ended: false, keepAlive: false }
  const parser = new ResponseParser({
    onHead: (status, headers) => Object.assign(out, { status, headers }),
    onBody: (chunk) => void (out.body += chunk.toString('latin1')),
    onEnd: () => void (out.ended = true),
  })
  parser.expect(noBody)
  const bytes = Buffer.from(wire, 'latin1')
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const size = Math.max(1, pieces[k % pieces.length]!)
    parser.feed(bytes.subarray(at, at + size))
    at += size
  }
  if (closeAtEnd) expect(parser.closed()).toBe(true)
  out.keepAlive = parser.keepAlive
  return out
}

const CHUNKED =
  'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n\r\n' +
  '8;ext=1\r\ndata: a\n\r\n' +
  'C\r\ndata: [DONE]\r\n' +
  '0\r\nx-trailer: t\r\n\r\n'

describe('ResponseParser', () => {
  it('reads a content-length body however the bytes are split', () => {
    const wire = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 11\r\nX-A:  spaced  \r\n\r\n{"ok":true}'
    for (let size = 1; size <= wire.length; size++) {
      const r = parse(wire, [size])
      expect(r).toMatchObject({ status: 200, body: '{"ok":true}', ended: true, keepAlive: true })
      expect(r.headers).toEqual({ 'content-type': 'application/json', 'content-length': '11', 'x-a': 'spaced' })
    }
  })

  it('de-chunks a chunked body (extensions ignored, trailers dropped) however the bytes are split; repeated headers stay separate', () => {
    for (const pieces of [[1], [2], [3], [5, 1, 7], [13], [CHUNKED.length]]) {
      const r = parse(CHUNKED, pieces)
      expect(r).toMatchObject({ status: 200, body: 'data: a\ndata: [DONE]', ended: true, keepAlive: true })
      expect(r.headers['set-cookie']).toEqual(['a=1', 'b=2'])
    }
  })

  it('skips interim 1xx answers and reads the final one', () => {
    const r = parse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok', [4])
    expect(r).toMatchObject({ status: 201, body: 'ok', ended: true })
    expect(r.headers.link).toBeUndefined()
  })

  it('expects no body after HEAD, 204 and 304, whatever content-length says', () => {
    expect(parse('HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n', undefined, true)).toMatchObject({ status: 200, body: '', ended: true })
    expect(parse('HTTP/1.1 204 No Content\r\n\r\n')).toMatchObject({ status: 204, ended: true, keepAlive: true })
    expect(parse('HTTP/1.1 304 Not Modified\r\ncontent-length: 9\r\n\r\n')).toMatchObject({ status: 304, ended: true })
  })

  it('reads a body without framing until the connection closes, and then the connection is not reused', () => {
    const r = parse('HTTP/1.1 200 OK\r\n\r\nall of it', [3], false, true)
    expect(r).toMatchObject({ body: 'all of it', ended: true, keepAlive: false })
  })

  it('does not keep alive after connection: close or an HTTP/1.0 answer', () => {
    expect(parse('HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\ncontent-length: 0\r\n\r\n').keepAlive).toBe(false)
    expect(parse('HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n').keepAlive).toBe(false)
  })

  it('a close in the middle of a framed body is not an end', () => {
    const parser = new ResponseParser({ onHead: () => {}, onBody: () => {}, onEnd: () => expect.unreachable() })
    parser.expect(false)
    parser.feed(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf'))
    expect(parser.closed()).toBe(false)
    expect(parser.busy).toBe(true)
  })

  it.each([
    ['both content-length and transfer-encoding', 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n', /both content-length and transfer-encoding/],
    ['differing content-lengths', 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\n', /bad content-length/],
    ['a content-length that is not a number', 'HTTP/1.1 200 OK\r\ncontent-length: 3x\r\n\r\n', /bad content-length/],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', /bad chunk size/],
    ['chunk data longer than its size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabc\r\n', /longer than its size/],
    ['obsolete line folding', 'HTTP/1.1 200 OK\r\nx-a: 1\r\n  folded\r\n\r\n', /obsolete line folding/],
    ['a space before the colon', 'HTTP/1.1 200 OK\r\nx-a : 1\r\n\r\n', /bad header name/],
    ['a control byte in a value', 'HTTP/1.1 200 OK\r\nx-a: 1\x01\r\n\r\n', /bad value/],
    ['a bad status line', 'HTTP/2 200\r\n\r\n', /bad status line/],
    ['101 Switching Protocols', 'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n', /upgrades are not proxied/],
    ['bytes after the end', 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nab', /bytes after the end/],
    ['a head over the limit', `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(MAX_HEAD_BYTES)}\r\n\r\n`, /response head over/],
  ])('refuses %s', (_what, wire, message) => {
    for (const pieces of [[wire.length], [7]]) {
      let error: unknown
      try {
        parse(wire, pieces)
      } catch (err) {
        error = err
      }
      expect(error).toBeInstanceOf(UpstreamProtocolError)
      expect((error as Error).message).toMatch(message)
    }
  })
})
