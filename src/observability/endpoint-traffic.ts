import type { AccessLogRecord } from '../gateway/access-log.js'

/** Requests answered per endpoint (`host:port`) since the stack started: the live page's request share. */
export class EndpointTraffic {
  readonly #byAddress = new Map<string, number>()

  observe(r: AccessLogRecord): void {
    const host = r.upstream_host
    if (host !== undefined) this.#byAddress.set(host, (this.#byAddress.get(host) ?? 0) + 1)
  }

  requests(address: string): number {
    return this.#byAddress.get(address) ?? 0
  }
}
