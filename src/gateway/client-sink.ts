import type { ServerResponse } from 'node:http'
import type { Http2ServerResponse } from 'node:http2'
import { Writable } from 'node:stream'
import { openAIErrorBody } from './openai-error.js'

export type ClientResponse = ServerResponse | Http2ServerResponse

/**
 * The writable undici streams an upstream response into. It forwards chunks to the client as they come (with back-pressure)
 * and, when the upstream breaks mid-stream, ends a Server-Sent-Events response with a well-formed error event and
 * `[DONE]` (as vLLM does for in-stream errors) instead of a silent truncation; other responses are cut, so the client sees
 * an incomplete body rather than a wrong one.
 */
export class ClientSink extends Writable {
  constructor(
    private readonly res: ClientResponse,
    private readonly sse: boolean,
  ) {
    super({ highWaterMark: 0 })
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if ((this.res as ServerResponse).write(chunk)) callback()
    else this.res.once('drain', () => callback())
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.res.end(() => callback())
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error && !this.res.writableEnded && !this.res.destroyed) {
      if (this.sse) {
        const event = openAIErrorBody(502, `upstream stream interrupted: ${error.message}`, 'upstream_stream_interrupted')
        this.res.end(`data: ${event}\n\ndata: [DONE]\n\n`)
      } else this.res.destroy(error)
    }
    callback(error)
  }
}
