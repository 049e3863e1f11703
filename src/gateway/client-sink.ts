import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import type { Http2ServerResponse } from 'node:http2'
import type { ResponseTap } from './admission.js'
import type { ClientResponse } from './client-response.js'
import { openAIErrorBody } from './openai-error.js'
import type { UpstreamHandler } from './upstream-connection.js'

/** The response body bytes written to the client, across attempts: the access log's `bytes_sent`. */
export interface SentBytes {
  bytesSent: number
}

/** What the sink reports back to the forwarding loop once the upstream exchange is over. */
export interface SinkOutcome {
  /** The upstream status was retryable and nothing reached the client: try another endpoint. */
  retry: boolean
}

export interface ClientSinkOptions {
  /** Upstream response headers have arrived: the status to answer with, or undefined to discard the response and retry. */
  onHeaders(statusCode: number, headers: IncomingHttpHeaders): { headers: Record<string, string | string[]> } | undefined
  /** The exchange ended: response complete (or discarded for a retry). */
  onDone(outcome: SinkOutcome): void
  onError(err: Error): void
  /** Each body chunk relayed to the client (for the access log's timing and usage). */
  onBody?(chunk: Buffer): void
  /** Reads (and may rewrite) the body on its way to the client: usage for token limits. */
  readonly tap?: ResponseTap | undefined
}

/**
 * Relays one upstream response to the client as bytes arrive (the upstream is paused while the client is not draining),
 * driven by the upstream connection directly — no intermediate stream — because this is the gateway's hot path. When the
 * upstream breaks mid-stream, a Server-Sent-Events response ends with a well-formed error event and `[DONE]` (as vLLM does
 * for in-stream errors) instead of a silent truncation; other responses are cut, so the client sees an incomplete body
 * rather than a wrong one.
 */
export class ClientSink implements UpstreamHandler {
  #abort: ((reason: Error) => void) | undefined
  #abortReason: Error | undefined
  #resume: (() => void) | undefined
  #discard = false
  #sse = false
  #started = false
  #tap: ResponseTap | undefined

  constructor(
    private readonly res: ClientResponse,
    private readonly options: ClientSinkOptions,
    private readonly sent: SentBytes,
  ) {}

  /** Whether response headers went to the client (from then on, nothing may be retried). */
  get started(): boolean {
    return this.#started
  }

  /** Aborts the upstream exchange (now, or as soon as it starts). */
  abort(reason: Error): void {
    this.#abortReason ??= reason
    this.#abort?.(reason)
  }

  onConnect(abort: (reason: Error) => void): void {
    this.#abort = abort
    if (this.#abortReason) abort(this.#abortReason)
  }

  onHeaders(statusCode: number, headers: IncomingHttpHeaders, resume: () => void): void {
    const answer = this.options.onHeaders(statusCode, headers)
    if (!answer) {
      this.#discard = true
      return
    }
    this.#started = true
    this.#resume = resume
    this.#sse = typeof headers['content-type'] === 'string' && headers['content-type'].startsWith('text/event-stream')
    const tap = (this.#tap = this.options.tap)
    tap?.onHeaders(statusCode, answer.headers)
    this.res.writeHead(statusCode, answer.headers)
  }

  /** Returning false pauses the upstream until the client drains. */
  onData(chunk: Buffer): boolean {
    if (this.#discard) return true
    // The watch reads what the model server sent (usage included); the tap may then drop the usage event the gateway
    // asked for, and only what goes on to the client counts as sent.
    this.options.onBody?.(chunk)
    if (this.#tap && (chunk = this.#tap.transform(chunk)).length === 0) return true
    this.sent.bytesSent += chunk.length
    if ((this.res as ServerResponse).write(chunk)) return true
    this.res.once('drain', this.#resume!)
    return false
  }

  onComplete(): void {
    if (!this.#discard) {
      const rest = this.#tap?.end()
      if (rest) this.res.end(rest)
      else this.res.end()
    }
    this.options.onDone({ retry: this.#discard })
  }

  onError(error: Error): void {
    const res = this.res
    if (this.#started && !res.writableEnded && !res.destroyed) {
      if (this.#sse) {
        const event = openAIErrorBody(502, `upstream stream interrupted: ${error.message}`, 'upstream_stream_interrupted')
        const tail = `data: ${event}\n\ndata: [DONE]\n\n`
        this.sent.bytesSent += Buffer.byteLength(tail)
        res.end(tail)
      } else res.destroy(error)
    }
    this.options.onError(error)
  }
}
