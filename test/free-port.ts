import { createServer, type AddressInfo } from 'node:net'

/** A port on 127.0.0.1 the OS just handed out and released, for a program that cannot listen on port 0 and say where. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}
