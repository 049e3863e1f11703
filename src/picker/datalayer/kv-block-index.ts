import { hashBlock, rootHash, type BlockHash } from '../../sim/block-hash.js'
import type { EngineBlockKey, KvEvent } from './kv-event-decoder.js'

// llm-d-kv-cache-manager's global index, fed by the engines' own KV events: which endpoints hold which blocks right now.
// Blocks are keyed by a hash the picker computes itself from the token ids a BlockStored event carries, chained from the
// parent's (the maitred simulator's SHA-256 chain, so the keys equal its block hashes for the same seed). The engine's
// hash only names a block within its own endpoint, so any engine hash algorithm works (real vLLM's pickle SHA-256 too) as
// long as the picker tokenizes requests as the engine did.

interface Held {
  readonly key: BlockHash
  /** Stored events minus removed ones for this engine hash (vLLM may hold duplicate blocks). */
  refs: number
}

/** Requests whose keys are kept for reuse, one per distinct first block. */
const RECENT_REQUESTS = 256

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a[i] === b[i]) i++
  return i
}

export type ApplyOutcome = 'ok' | 'orphan' | 'block-size-mismatch'

/** A pending block's hold on one endpoint: requests in flight that will compute it, and the end of its TTL. */
interface PendingHold {
  until: number
  inFlight: number
}

export class KvBlockIndex {
  readonly #holders = new Map<BlockHash, string[]>()
  /**
   * Blocks requests were sent to compute, per endpoint: held while any such request is in flight, then until `until` (ms).
   * Events confirm them only after a prefill, which may wait in the engine's queue.
   */
  readonly #pending = new Map<BlockHash, Map<string, PendingHold>>()
  /** The timed entries in the order they expire (one TTL for all). */
  readonly #pendingQueue: { readonly until: number; readonly endpointId: string; readonly keys: readonly BlockHash[] }[] = []
  readonly #byEndpoint = new Map<string, Map<EngineBlockKey, Held>>()
  readonly #root: BlockHash
  /** The latest request per first block key, least recently used first. */
  readonly #recent = new Map<BlockHash, { readonly tokenIds: readonly number[]; readonly keys: readonly BlockHash[] }>()
  /** LoRA names seen in events: a request for one of them hashes with it as the extra key, as the engine does. */
  readonly loraNames = new Set<string>()

  constructor(
    readonly blockSize: number,
    readonly hashSeed: string,
  ) {
    this.#root = rootHash(hashSeed)
  }

  /**
   * Applies one event from an endpoint. A stored block whose parent this index does not hold for that endpoint (its store
   * was missed) cannot be keyed: `orphan`, and the caller should resync.
   */
  apply(endpointId: string, event: KvEvent): ApplyOutcome {
    const blocks = this.#blocksOf(endpointId)
    switch (event.type) {
      case 'BlockStored': {
        if (event.blockSize !== this.blockSize) return 'block-size-mismatch'
        if (event.loraName !== null) this.loraNames.add(event.loraName)
        let parent: BlockHash | undefined = event.parentBlockHash === null ? this.#root : blocks.get(event.parentBlockHash)?.key
        if (parent === undefined) return 'orphan'
        const bs = this.blockSize
        for (let i = 0; i < event.blockHashes.length && (i + 1) * bs <= event.tokenIds.length; i++) {
          const engineKey = event.blockHashes[i] as EngineBlockKey
          const held = blocks.get(engineKey)
          if (held) {
            held.refs++
            parent = held.key
            continue
          }
          const key = hashBlock(parent, event.tokenIds, i * bs, (i + 1) * bs, event.loraName)
          blocks.set(engineKey, { key, refs: 1 })
          this.#addHolder(key, endpointId)
          parent = key
        }
        return 'ok'
      }
      case 'BlockRemoved':
        for (const engineKey of event.blockHashes) {
          const held = blocks.get(engineKey)
          if (!held || --held.refs > 0) continue
          blocks.delete(engineKey)
          this.#removeHolder(held.key, endpointId)
        }
        return 'ok'
      case 'AllBlocksCleared':
        this.clearEndpoint(endpointId)
        return 'ok'
    }
  }

  /** Forgets every block an endpoint's events stored (AllBlocksCleared, a resync). */
  clearEndpoint(endpointId: string): void {
    const blocks = this.#byEndpoint.get(endpointId)
    if (!blocks) return
    for (const held of blocks.values()) this.#removeHolder(held.key, endpointId)
    this.#byEndpoint.delete(endpointId)
  }

  /** Forgets an endpoint that left the pool, pending blocks included. */
  removeEndpoint(endpointId: string): void {
    this.clearEndpoint(endpointId)
    for (const [key, ends] of this.#pending) if (ends.delete(endpointId) && ends.size === 0) this.#pending.delete(key)
  }

  /**
   * The chained keys of a request's full blocks, at most as many as the engine could hit: it always recomputes the last
   * token, so only floor((n − 1) / block size) blocks can come from the cache. The keys of the longest prefix shared with
   * a recent request of the same first block are reused (a tenant's long document is hashed once, not per request).
   */
  requestKeys(tokenIds: readonly number[], loraName: string | null): BlockHash[] {
    const bs = this.blockSize
    const n = Math.max(0, Math.floor((tokenIds.length - 1) / bs))
    if (n === 0) return []
    const first = hashBlock(this.#root, tokenIds, 0, bs, loraName)
    const recent = this.#recent.get(first)
    let reused = 1
    if (recent) {
      const same = commonPrefix(recent.tokenIds, tokenIds)
      reused = Math.max(1, Math.min(n, recent.keys.length, Math.floor(same / bs)))
    }
    const keys = recent ? recent.keys.slice(0, reused) : [first]
    for (let i = reused; i < n; i++) keys.push(hashBlock(keys[i - 1] as BlockHash, tokenIds, i * bs, (i + 1) * bs, loraName))
    this.#recent.delete(first)
    if (this.#recent.size >= RECENT_REQUESTS) this.#recent.delete(this.#recent.keys().next().value as BlockHash)
    this.#recent.set(first, { tokenIds, keys })
    return keys
  }

  /**
   * Counts `keys` as held by the endpoint until `until` (llm-d's speculative indexing): a request just sent there will
   * store them once prefilled, and the next requests of a burst should find them there before its events arrive.
   */
  addPending(endpointId: string, keys: readonly BlockHash[], now: number, until: number): void {
    this.#hold(endpointId, keys, now, until, 0)
    this.#pendingQueue.push({ until, endpointId, keys })
  }

  /** Counts `keys` as held by the endpoint while a request sent there is in flight: until its releasePending(). */
  holdPending(endpointId: string, keys: readonly BlockHash[], now: number): void {
    this.#hold(endpointId, keys, now, now, 1)
  }

  /** A request held by holdPending() is answered: its blocks stay held until `until` (and while others are in flight). */
  releasePending(endpointId: string, keys: readonly BlockHash[], now: number, until: number): void {
    for (const key of keys) {
      const hold = this.#pending.get(key)?.get(endpointId)
      if (hold && hold.inFlight > 0) hold.inFlight--
    }
    this.addPending(endpointId, keys, now, until)
  }

  #hold(endpointId: string, keys: readonly BlockHash[], now: number, until: number, inFlight: 0 | 1): void {
    this.#expirePending(now)
    for (const key of keys) {
      let ends = this.#pending.get(key)
      if (!ends) this.#pending.set(key, (ends = new Map()))
      const hold = ends.get(endpointId)
      if (!hold) ends.set(endpointId, { until, inFlight })
      else {
        hold.until = Math.max(hold.until, until)
        hold.inFlight += inFlight
      }
    }
  }

  /**
   * Per endpoint, how many leading blocks of `keys` it holds without a gap (the prefix its cache would hit), counting
   * pending blocks too when `now` is given.
   */
  longestPrefix(keys: readonly BlockHash[], now?: number): Map<string, number> {
    if (now !== undefined) this.#expirePending(now)
    const matched = new Map<string, number>()
    let alive: string[] | undefined
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as BlockHash
      const holders = this.#holders.get(key)
      const pending = now === undefined ? undefined : this.#pending.get(key)
      if (!holders && !pending) break
      const holds = (id: string) => (holders?.includes(id) ?? false) || pending?.has(id) === true
      alive = alive === undefined ? [...new Set([...(holders ?? []), ...(pending?.keys() ?? [])])] : alive.filter(holds)
      if (alive.length === 0) break
      for (const id of alive) matched.set(id, i + 1)
    }
    return matched
  }

  /** Blocks an endpoint holds. */
  blocksHeld(endpointId: string): number {
    return this.#byEndpoint.get(endpointId)?.size ?? 0
  }

  /** Distinct blocks held anywhere. */
  size(): number {
    return this.#holders.size
  }

  #expirePending(now: number): void {
    const queue = this.#pendingQueue
    let done = 0
    while (done < queue.length && (queue[done] as (typeof queue)[number]).until <= now) {
      const { endpointId, keys } = queue[done++] as (typeof queue)[number]
      for (const key of keys) {
        const ends = this.#pending.get(key)
        const hold = ends?.get(endpointId)
        // A later request may have extended it, or one is still in flight.
        if (ends === undefined || hold === undefined || hold.until > now || hold.inFlight > 0) continue
        ends.delete(endpointId)
        if (ends.size === 0) this.#pending.delete(key)
      }
    }
    if (done > 0) queue.splice(0, done)
  }

  #blocksOf(endpointId: string): Map<EngineBlockKey, Held> {
    let blocks = this.#byEndpoint.get(endpointId)
    if (!blocks) this.#byEndpoint.set(endpointId, (blocks = new Map()))
    return blocks
  }

  #addHolder(key: BlockHash, endpointId: string): void {
    const holders = this.#holders.get(key)
    if (!holders) this.#holders.set(key, [endpointId])
    else if (!holders.includes(endpointId)) holders.push(endpointId)
  }

  #removeHolder(key: BlockHash, endpointId: string): void {
    const holders = this.#holders.get(key)
    if (!holders) return
    const rest = holders.filter((id) => id !== endpointId)
    if (rest.length === 0) this.#holders.delete(key)
    else this.#holders.set(key, rest)
  }
}
