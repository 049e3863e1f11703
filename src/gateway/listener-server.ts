import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { RequestHandler } from './request-handler.js'

/** An HTTP listener of a Gateway. Streams can last minutes, so there is no whole-request timeout here (routes set their own). */
export async function listen(handler: RequestHandler, host: string, port: number): Promise<{ server: Server; port: number }> {
  const server = createServer({ keepAlive: true, requestTimeout: 0, headersTimeout: 30_000 }, handler.handle)
  server.keepAliveTimeout = 65_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return { server, port: (server.address() as AddressInfo).port }
}

/** Stops accepting, lets in-flight requests finish, and closes idle keep-alive connections. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeIdleConnections()
  })
}
