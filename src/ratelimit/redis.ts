import { Redis } from 'ioredis'
import { CounterLeases, LEASE_SHARE } from './counter-leases.js'
import type { CounterDelta, CounterEntry, LimitStore, Reservation } from './limit-store.js'

/**
 * One batch as one script (atomic on the server): first the settles gathered since the last batch (leases given back among
 * them), then the reserves, each request checked and counted in turn exactly as if it had come alone. KEYS: the settled
 * counters, then every request's counters one after another (hashes: n = count, w = window start). ARGV: the lease share,
 * the number of settled counters, then window and delta per settled counter (a counter whose window has moved on is left
 * alone); the number of requests, then per request its number of keys, need, want, and limit, window ms, 1/0 (tokens) and
 * lease asked for per key. An admitted request's counter also counts a lease for this replica: what was asked, at most
 * 1/share of the room left. Returns per request: admitted, granted, then count, ms to reset, window and lease per key. A
 * counter's window starts at its first hit and the key expires with it.
 */
const BATCH = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
local share = tonumber(ARGV[1])
local settled = tonumber(ARGV[2])
local a, k = 3, settled
for i = 1, settled do
  if redis.call('HGET', KEYS[i], 'w') == ARGV[a] then
    local n = redis.call('HINCRBY', KEYS[i], 'n', tonumber(ARGV[a + 1]))
    if n < 0 then redis.call('HSET', KEYS[i], 'n', 0) end
  end
  a = a + 2
end
local requests = tonumber(ARGV[a])
a = a + 1
for r = 1, requests do
  local n, need, room = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  a = a + 3
  local counts, windows, refused, tokens = {}, {}, false, false
  for i = 1, n do
    local limit = tonumber(ARGV[a + 4 * (i - 1)])
    local v = redis.call('HMGET', KEYS[k + i], 'n', 'w')
    counts[i] = tonumber(v[1]) or 0
    windows[i] = v[2]
    if ARGV[a + 4 * (i - 1) + 2] == '1' then
      tokens = true
      if limit - counts[i] < room then room = limit - counts[i] end
    elseif counts[i] + 1 > limit then refused = true end
  end
  if tokens and room < need then refused = true end
  local granted = 0
  if tokens and not refused then granted = room end
  out[#out + 1] = refused and 0 or 1
  out[#out + 1] = granted
  for i = 1, n do
    local key = KEYS[k + i]
    local at = a + 4 * (i - 1)
    local window_ms = tonumber(ARGV[at + 1])
    local lease = 0
    if not refused then
      local delta = 1
      if ARGV[at + 2] == '1' then delta = granted end
      lease = math.min(tonumber(ARGV[at + 3]), math.floor((tonumber(ARGV[at]) - (counts[i] + delta)) / share))
      if lease < 0 then lease = 0 end
      delta = delta + lease
      if windows[i] == false or windows[i] == nil then
        windows[i] = tostring(now)
        redis.call('HSET', key, 'n', delta, 'w', windows[i])
        redis.call('PEXPIRE', key, window_ms)
        counts[i] = delta
      else
        counts[i] = redis.call('HINCRBY', key, 'n', delta)
      end
    end
    local ttl = redis.call('PTTL', key)
    if ttl < 0 then ttl = window_ms end
    out[#out + 1] = counts[i]
    out[#out + 1] = ttl
    out[#out + 1] = windows[i] or ''
    out[#out + 1] = lease
  end
  a = a + 4 * n
  k = k + n
end
return out
`

/**
 * Settles wait this long at most for a batch of reserves to ride with: a few milliseconds late only keeps a reservation a
 * little longer.
 */
const ADJUST_BATCH_MS = 5

/** A reserve waiting for its batch to go out. */
interface QueuedReserve {
  entries: readonly CounterEntry[]
  need: number
  want: number
  resolve: (r: Reservation) => void
  reject: (err: Error) => void
}

type ScriptedRedis = Redis & {
  maitredBatch(numKeys: number, ...args: (string | number)[]): Promise<(number | string)[]>
}

export interface RedisLimitStoreOptions {
  url: string
  /** Prepended to every key, so several stacks (or tests) can share one Redis. */
  prefix?: string
  /** A command that takes longer fails (and the policy's failure mode applies). */
  commandTimeoutMs?: number
  /** The connection's name in Redis's CLIENT LIST. */
  connectionName?: string
}

/**
 * Counters in Redis, shared by every gateway replica. The reserves that arrive together (in one event-loop turn, or while
 * the previous batch is out) go as one Lua script (sent by EVALSHA), with the settles gathered meanwhile (alone after a
 * few milliseconds if no reserve comes): a round trip and a write per batch rather than two per request. And a counter far
 * from its limit leases this replica a block of units in the same script (counter-leases.ts), so that the next requests
 * are admitted here without a round trip: the round trip is most of what a request's rate limiting costs the gateway.
 * With Redis unreachable, commands fail at once (no offline queue; bounded timeout) so the failure mode applies, leases
 * are dropped, and the client keeps reconnecting in the background.
 */
export class RedisLimitStore implements LimitStore {
  readonly #redis: ScriptedRedis
  readonly #prefix: string
  readonly #leases = new CounterLeases((returns) => {
    for (const r of returns) this.#queueAdjust(r.key, r.window, r.delta)
    void this.#settledPromise().catch(() => {})
  })
  /** Pending adjustments by `key window` (summed), and the promise their callers wait on. */
  #pending = new Map<string, CounterDelta>()
  #settled: { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } | undefined
  #timer: NodeJS.Timeout | undefined
  /** Reserves of this event-loop turn, sent together once it is over. */
  #reserves: QueuedReserve[] = []
  /** The batch on its way: what comes meanwhile waits for it and goes out as the next one (group commit). */
  #flight: Promise<void> | undefined

  constructor(options: RedisLimitStoreOptions) {
    this.#prefix = options.prefix ?? 'maitred:rl:'
    const redis = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 500,
      connectionName: options.connectionName ?? 'maitred-ratelimit',
      connectTimeout: 1000,
      retryStrategy: (times) => Math.min(times * 100, 1000),
      lazyConnect: false,
      // Batched here instead (one script per turn): ioredis's auto-pipelining costs a Pipeline per command.
      enableAutoPipelining: false,
    })
    // Errors reach the caller through the failed command; the connection's own events are not fatal.
    redis.on('error', () => {})
    // A lost connection may have lost what Redis counted (a restarted Redis starts empty): no lease is trusted past it.
    redis.on('close', () => this.#leases.clear())
    redis.defineCommand('maitredBatch', { lua: BATCH })
    this.#redis = redis as ScriptedRedis
  }

  /** Resolves once connected (or rejects after `timeoutMs`): for start-up checks. */
  ready(timeoutMs = 2000): Promise<void> {
    if (this.#redis.status === 'ready') return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#redis.off('ready', onReady)
        reject(new Error(`Redis not reachable within ${timeoutMs} ms`))
      }, timeoutMs)
      const onReady = () => {
        clearTimeout(timer)
        resolve()
      }
      this.#redis.once('ready', onReady)
    })
  }

  reserve(entries: readonly CounterEntry[], need: number, want: number): Reservation | Promise<Reservation> {
    const leased = this.#leases.take(entries, want)
    if (leased) return leased
    return new Promise((resolve, reject) => {
      if (this.#reserves.push({ entries, need, want, resolve, reject }) === 1) setImmediate(this.#send)
    })
  }

  adjust(entries: readonly { key: string; window: string }[], delta: number): Promise<void> | undefined {
    if (delta === 0) return undefined
    let queued = false
    for (const e of entries) {
      if (this.#leases.settle(e.key, e.window, delta)) continue
      this.#queueAdjust(e.key, e.window, delta)
      queued = true
    }
    return queued ? this.#settledPromise() : undefined
  }

  #queueAdjust(key: string, window: string, delta: number): void {
    const id = `${key} ${window}`
    const pending = this.#pending.get(id)
    if (pending) pending.delta += delta
    else this.#pending.set(id, { key, window, delta })
  }

  /** What the adjustments queued so far wait on: the next batch, sent within a few milliseconds. */
  #settledPromise(): Promise<void> {
    if (!this.#settled) {
      let resolve!: () => void
      let reject!: (err: Error) => void
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)))
      this.#settled = { promise, resolve, reject }
      this.#timer = setTimeout(this.#send, ADJUST_BATCH_MS)
    }
    return this.#settled.promise
  }

  /**
   * Sends what is pending (settles, reserves) as one script; resolves once its callers have their answers. One batch is
   * in flight at a time: under load the next one gathers everything that arrives during a round trip (a write, a read
   * and a reply to decode per batch rather than per turn), while a lone request still goes at once. Reserves that waited
   * for the last batch are first offered the leases it brought.
   */
  readonly #send = (): Promise<void> => {
    if (this.#flight) return this.#flight
    const reserves: QueuedReserve[] = []
    for (const r of this.#reserves) {
      const leased = this.#leases.take(r.entries, r.want)
      if (leased) r.resolve(leased)
      else reserves.push(r)
    }
    this.#reserves = []
    const returns: CounterDelta[] = []
    for (const r of reserves) this.#leases.surrender(r.entries, r.want, returns)
    for (const b of returns) this.#queueAdjust(b.key, b.window, b.delta)
    const adjusts = this.#pending
    const settled = this.#settled
    if (reserves.length === 0 && adjusts.size === 0) return Promise.resolve()
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#pending = new Map()
    this.#settled = undefined
    const keys: string[] = []
    const argv: (string | number)[] = [LEASE_SHARE, adjusts.size]
    for (const b of adjusts.values()) {
      keys.push(this.#prefix + b.key)
      argv.push(b.window, b.delta)
    }
    // Only a counter's last request in the batch asks for a lease: the earlier ones would only lease more of the same room.
    const asks = reserves.map((r) => r.entries.map(() => 0))
    const asking = new Set<string>()
    for (let i = reserves.length - 1; i >= 0; i--) {
      const r = reserves[i]!
      r.entries.forEach((e, j) => {
        if (asking.has(e.key)) return
        asking.add(e.key)
        asks[i]![j] = this.#leases.ask(e, r.want)
      })
    }
    argv.push(reserves.length)
    reserves.forEach((r, i) => {
      argv.push(r.entries.length, r.need, r.want)
      r.entries.forEach((e, j) => {
        keys.push(this.#prefix + e.key)
        argv.push(e.limit, e.windowMs, e.tokens ? 1 : 0, asks[i]![j]!)
      })
    })
    const sentAt = performance.now()
    const flight = this.#redis.maitredBatch(keys.length, ...keys, ...argv).then(
      (out) => {
        settled?.resolve()
        let at = 0
        reserves.forEach((r, i) => {
          const admitted = out[at] === 1
          const granted = Number(out[at + 1])
          at += 2
          const states = r.entries.map((e, j) => {
            const state = { count: Number(out[at]), resetMs: Number(out[at + 1]), window: String(out[at + 2]) }
            state.count = this.#leases.grant(e.key, state, Number(out[at + 3]), admitted ? asks[i]![j]! : 0, sentAt)
            at += 4
            return state
          })
          r.resolve({ admitted, granted, states })
        })
      },
      (err: Error) => {
        this.#leases.clear()
        settled?.reject(err)
        for (const r of reserves) r.reject(err)
      },
    )
    this.#flight = flight.finally(() => {
      this.#flight = undefined
      if (this.#reserves.length > 0 || this.#pending.size > 0) void this.#send()
    })
    return this.#flight
  }

  async close(): Promise<void> {
    for (const r of this.#leases.returnAll()) this.#queueAdjust(r.key, r.window, r.delta)
    while (this.#flight || this.#reserves.length > 0 || this.#pending.size > 0) await this.#send()
    this.#redis.disconnect()
  }
}
