import type * as grpc from '@grpc/grpc-js'
import { createExtProcClient, type ExtProcClient, type ExtProcClientTls } from '../ext-proc-client.js'
import type { ProcessingRequest, ProcessingResponse } from '../ext-proc-messages.js'
import { recordToHeaderMap } from '../header-map.js'

/**
 * Envoy's side of one ext_proc stream, message for message: the test sends ProcessingRequests and awaits each
 * ProcessingResponse in order, or asserts that none is pending (e.g. full-duplex request headers held until the body ends).
 */
export class EnvoyStream {
  private readonly received: ProcessingResponse[] = []
  private readonly waiters: ((response: ProcessingResponse | Error) => void)[] = []
  private failure: Error | undefined
  readonly call: grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse>
  /** Resolves with the final gRPC status of the stream. */
  readonly status: Promise<grpc.StatusObject>

  constructor(client: ExtProcClient) {
    this.call = client.Process()
    this.status = new Promise((resolve) => this.call.on('status', resolve))
    this.call.on('data', (response: ProcessingResponse) => {
      const waiter = this.waiters.shift()
      if (waiter) waiter(response)
      else this.received.push(response)
    })
    const finish = (error: Error) => {
      this.failure ??= error
      for (const waiter of this.waiters.splice(0)) waiter(this.failure)
    }
    this.call.on('error', finish)
    this.call.on('end', () => finish(new Error('stream ended')))
  }

  send(request: ProcessingRequest): this {
    this.call.write(request)
    return this
  }

  /** Request headers the way Envoy sends them: pseudo-headers included, values in raw_value. */
  sendRequestHeaders(headers: Record<string, string>, options: { endOfStream?: boolean; extra?: Partial<ProcessingRequest> } = {}): this {
    return this.send({
      request_headers: { headers: recordToHeaderMap({ ':method': 'POST', ':path': '/v1/chat/completions', ':authority': 'gateway', ...headers }), end_of_stream: options.endOfStream ?? false },
      ...options.extra,
    })
  }

  next(timeoutMs = 5_000): Promise<ProcessingResponse> {
    const ready = this.received.shift()
    if (ready) return Promise.resolve(ready)
    if (this.failure) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(waiter)
        if (index >= 0) this.waiters.splice(index, 1)
        reject(new Error(`no ProcessingResponse within ${timeoutMs} ms`))
      }, timeoutMs)
      const waiter = (response: ProcessingResponse | Error) => {
        clearTimeout(timer)
        if (response instanceof Error) reject(response)
        else resolve(response)
      }
      this.waiters.push(waiter)
    })
  }

  /** Fails if a response is already waiting or arrives within `ms`. */
  async expectNothing(ms = 100): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms))
    if (this.received.length > 0) throw new Error(`unexpected ProcessingResponse: ${JSON.stringify(this.received[0])}`)
  }

  end(): void {
    this.call.end()
  }
}

/** A client and a stream factory; `close()` cancels every stream still open and closes the channel. */
export function openEnvoyStream(target: string, tls?: ExtProcClientTls): { stream: () => EnvoyStream; close: () => void } {
  const client = createExtProcClient(target, tls)
  const streams: EnvoyStream[] = []
  return {
    stream: () => {
      const stream = new EnvoyStream(client)
      streams.push(stream)
      return stream
    },
    close: () => {
      for (const stream of streams) stream.call.cancel()
      client.close()
    },
  }
}
