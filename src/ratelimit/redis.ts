import { Redis } from 'ioredis'
import type { CounterEntry, LimitStore, Reservation } from './limit-store.js'

/**
 * reserve, as one script (atomic on the server): KEYS are the counters (hashes: n = count, w = window start),
 * ARGV = need, want, then limit, window ms and 1/0 (tokens) per key. Returns admitted, granted, then count, ms to reset
 * and window per key. A counter's window starts at its first hit and the key expires with it.
 */
const RESERVE = `
local need = tonumber(ARGV[1])
local room = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local counts, windows, refused, tokens = {}, {}, false, false
for i = 1, #KEYS do
  local limit = tonumber(ARGV[3 * i])
  local v = redis.call('HMGET', KEYS[i], 'n', 'w')
  counts[i] = tonumber(v[1]) or 0
  windows[i] = v[2]
  if ARGV[3 * i + 2] == '1' then
    tokens = true
    if limit - counts[i] < room then room = limit - counts[i] end
  elseif counts[i] + 1 > limit then refused = true end
end
if tokens and room < need then refused = true end
local granted = 0
if tokens and not refused then granted = room end
local out = {refused and 0 or 1, granted}
for i = 1, #KEYS do
  local window_ms = tonumber(ARGV[3 * i + 1])
  if not refused then
    local delta = 1
    if ARGV[3 * i + 2] == '1' then delta = granted end
    if windows[i] == false or windows[i] == nil then
      windows[i] = tostring(now)
      redis.call('HSET', KEYS[i], 'n', delta, 'w', windows[i])
      redis.call('PEXPIRE', KEYS[i], window_ms)
      counts[i] = delta
    else
      counts[i] = redis.call('HINCRBY', KEYS[i], 'n', delta)
    end
  end
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl < 0 then ttl = window_ms end
  out[#out + 1] = counts[i]
  out[#out + 1] = ttl
  out[#out + 1] = windows[i] or ''
end
return out
`

/** adjust: ARGV = window and delta per key; a counter whose window has moved on is left alone. */
const ADJUST = `
for i = 1, #KEYS do
  if redis.call('HGET', KEYS[i], 'w') == ARGV[2 * i - 1] then
    local n = redis.call('HINCRBY', KEYS[i], 'n', tonumber(ARGV[2 * i]))
    if n < 0 then redis.call('HSET', KEYS[i], 'n', 0) end
  end
end
return 1
`

/** Settles are gathered this long and sent as one script: a few milliseconds late only keeps a reservation a little longer. */
const ADJUST_BATCH_MS = 5

type ScriptedRedis = Redis & {
  maitredReserve(numKeys: number, ...args: (string | number)[]): Promise<(number | string)[]>
  maitredAdjust(numKeys: number, ...args: (string | number)[]): Promise<number>
}

export interface RedisLimitStoreOptions {
  url: string
  /** Prepended to every key, so several stacks (or tests) can share one Redis. */
  prefix?: string
  /** A command that takes longer fails (and the policy's failure mode applies). */
  commandTimeoutMs?: number
}

/**
 * Counters in Redis, shared by every gateway replica. Each reserve and adjust is one Lua script (sent by EVALSHA). With
 * Redis unreachable, commands fail at once (no offline queue; bounded timeout) so the failure mode applies, and the
 * client keeps reconnecting in the background.
 */
export class RedisLimitStore implements LimitStore {
  readonly #redis: ScriptedRedis
  readonly #prefix: string
  /** Pending adjustments by `key window` (summed), and the callers waiting on the batch. */
  #pending = new Map<string, { key: string; window: string; delta: number }>()
  #waiting: { resolve: () => void; reject: (err: Error) => void }[] = []
  #timer: NodeJS.Timeout | undefined

  constructor(options: RedisLimitStoreOptions) {
    this.#prefix = options.prefix ?? 'maitred:rl:'
    const redis = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 500,
      connectTimeout: 1000,
      retryStrategy: (times) => Math.min(times * 100, 1000),
      lazyConnect: false,
      // Commands issued in one event-loop turn (concurrent requests) go out in one write.
      enableAutoPipelining: true,
    })
    // Errors reach the caller through the failed command; the connection's own events are not fatal.
    redis.on('error', () => {})
    redis.defineCommand('maitredReserve', { lua: RESERVE })
    redis.defineCommand('maitredAdjust', { lua: ADJUST })
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

  async reserve(entries: readonly CounterEntry[], need: number, want: number): Promise<Reservation> {
    const args: (string | number)[] = []
    for (const e of entries) args.push(this.#prefix + e.key)
    args.push(need, want)
    for (const e of entries) args.push(e.limit, e.windowMs, e.tokens ? 1 : 0)
    const out = await this.#redis.maitredReserve(entries.length, ...args)
    const states = entries.map((_, i) => ({ count: Number(out[2 + 3 * i]), resetMs: Number(out[3 + 3 * i]), window: String(out[4 + 3 * i]) }))
    return { admitted: out[0] === 1, granted: Number(out[1]), states }
  }

  adjust(entries: readonly { key: string; window: string }[], delta: number): Promise<void> {
    if (entries.length === 0 || delta === 0) return Promise.resolve()
    for (const e of entries) {
      const id = `${e.key} ${e.window}`
      const pending = this.#pending.get(id)
      if (pending) pending.delta += delta
      else this.#pending.set(id, { key: e.key, window: e.window, delta })
    }
    this.#timer ??= setTimeout(() => void this.#flush(), ADJUST_BATCH_MS)
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }))
  }

  async #flush(): Promise<void> {
    this.#timer = undefined
    const batch = [...this.#pending.values()]
    const waiting = this.#waiting
    this.#pending = new Map()
    this.#waiting = []
    const args: (string | number)[] = batch.map((b) => this.#prefix + b.key)
    for (const b of batch) args.push(b.window, b.delta)
    try {
      await this.#redis.maitredAdjust(batch.length, ...args)
      for (const w of waiting) w.resolve()
    } catch (err) {
      for (const w of waiting) w.reject(err as Error)
    }
  }

  async close(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer)
      await this.#flush()
    }
    this.#redis.disconnect()
  }
}
