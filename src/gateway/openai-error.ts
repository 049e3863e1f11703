import type { ClientResponse } from './client-response.js'
import { lingerOnClose } from './lingering-close.js'

/** OpenAI's error `type` for each HTTP status the gateway produces. */
export function errorTypeFor(status: number): string {
  if (status === 401) return 'authentication_error'
  if (status === 403) return 'permission_error'
  if (status === 404) return 'not_found_error'
  if (status === 429) return 'rate_limit_error'
  if (status >= 500) return 'server_error'
  return 'invalid_request_error'
}

export function openAIErrorBody(status: number, message: string, code: string): string {
  return JSON.stringify({ error: { message, type: errorTypeFor(status), param: null, code } })
}

/**
 * Answers with an OpenAI-shaped JSON error, unless headers already went out (then the connection is cut). A 413 leaves the
 * rest of the request body unread, so it ends the exchange (RFC 9110 §15.5.14): HTTP/1.1 closes the connection (lingering,
 * so that a client still uploading reads its 413), HTTP/2 resets only the stream (NO_ERROR, once the answer is out) so the
 * client stops sending it. Returns the body bytes written (0 when the connection was cut).
 */
export function sendOpenAIError(res: ClientResponse, status: number, message: string, code: string, headers: Record<string, string> = {}): number {
  if (res.headersSent) {
    res.destroy()
    return 0
  }
  const body = openAIErrorBody(status, message, code)
  const length = Buffer.byteLength(body)
  const http2 = 'stream' in res
  if (status === 413 && !http2) {
    headers = { ...headers, connection: 'close' }
    lingerOnClose(res.req)
  }
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': length })
  res.end(body)
  if (status === 413 && http2) res.stream.close()
  return length
}

/** An error with the status and code the gateway answers with. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
  ) {
    super(message)
    this.name = 'GatewayError'
  }
}
