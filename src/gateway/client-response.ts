import type { ServerResponse } from 'node:http'
import type { Http2ServerResponse } from 'node:http2'

/** The response the gateway writes to its client: HTTP/1.1, or a stream of an HTTP/2 session (h2c or HTTPS). */
export type ClientResponse = ServerResponse | Http2ServerResponse
