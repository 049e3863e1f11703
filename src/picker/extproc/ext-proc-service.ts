import * as grpc from '@grpc/grpc-js'
import type { ProcessingRequest, ProcessingResponse } from './ext-proc-messages.js'
import { ExtProcSession, type ExtProcSessionOptions } from './ext-proc-session.js'

export type ExtProcServiceOptions = Omit<ExtProcSessionOptions, 'send'> & {
  /** Where unexpected per-stream failures are reported (they end that stream with INTERNAL). */
  onError?: (error: unknown) => void
}

/**
 * The `ExternalProcessor.Process` handler: one ExtProcSession per stream, messages handled strictly in order (a pick is
 * async; later messages wait for it). When the stream ends for any reason the session completes its request.
 */
export function createExtProcService(options: ExtProcServiceOptions): grpc.UntypedServiceImplementation {
  const Process = (call: grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>) => {
    let open = true
    const session = new ExtProcSession({
      ...options,
      send: (response) => {
        if (open) call.write(response)
      },
    })
    let queue = Promise.resolve()
    const fail = (error: unknown) => {
      options.onError?.(error)
      if (!open) return
      open = false
      call.emit('error', { code: grpc.status.INTERNAL, details: error instanceof Error ? error.message : String(error) })
    }
    call.on('data', (message: ProcessingRequest) => {
      queue = queue.then(() => (open ? session.handle(message) : undefined)).catch(fail)
    })
    call.on('end', () => {
      queue = queue.then(() => {
        session.end()
        if (open) {
          open = false
          call.end()
        }
      })
    })
    const abandon = () => {
      open = false
      queue = queue.then(() => session.end())
    }
    call.on('cancelled', abandon)
    call.on('error', abandon)
  }
  return { Process }
}
