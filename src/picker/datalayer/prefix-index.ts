import { BlockLru } from './block-lru.js'

/**
 * The approximate prefix index of GIE: which endpoints probably hold which prompt blocks in their KV cache.
 * `hashToEndpoints` answers the lookup; one LRU per endpoint (capacity = its KV blocks) bounds memory and
 * evicts as the engine would.
 */
export class PrefixIndex {
  readonly #hashToEndpoints = new Map<number, string[]>()
  readonly #lruByEndpoint = new Map<string, BlockLru>()
  readonly #capacity = new Map<string, number>()

  constructor(readonly defaultCapacityPerEndpoint: number) {}

  /** Capacity in blocks for one endpoint (autoTune: its `num_gpu_blocks`); shrinking evicts at once. */
  setCapacity(endpointId: string, blocks: number): void {
    if (this.#capacity.get(endpointId) === blocks) return
    this.#capacity.set(endpointId, blocks)
    const lru = this.#lruByEndpoint.get(endpointId)
    if (lru) this.#evict(endpointId, lru, blocks)
  }

  /**
   * Walks the hashes in order, stopping at the first one no endpoint has; each endpoint holding a matched
   * hash gets +1 (GIE's longest-prefix count).
   */
  match(hashes: readonly number[]): Map<string, number> {
    const counts = new Map<string, number>()
    for (const hash of hashes) {
      const holders = this.#hashToEndpoints.get(hash)
      if (!holders) break
      for (const id of holders) counts.set(id, (counts.get(id) ?? 0) + 1)
    }
    return counts
  }

  /** Records that `endpointId` now caches these blocks (called at scheduling time). */
  add(endpointId: string, hashes: readonly number[]): void {
    let lru = this.#lruByEndpoint.get(endpointId)
    if (!lru) this.#lruByEndpoint.set(endpointId, (lru = new BlockLru()))
    for (const hash of hashes) {
      if (!lru.touch(hash)) continue
      const holders = this.#hashToEndpoints.get(hash)
      if (holders) holders.push(endpointId)
      else this.#hashToEndpoints.set(hash, [endpointId])
    }
    this.#evict(endpointId, lru, this.#capacity.get(endpointId) ?? this.defaultCapacityPerEndpoint)
  }

  /** Forgets an endpoint that left the pool. */
  removeEndpoint(endpointId: string): void {
    const lru = this.#lruByEndpoint.get(endpointId)
    if (lru) this.#evict(endpointId, lru, 0)
    this.#lruByEndpoint.delete(endpointId)
    this.#capacity.delete(endpointId)
  }

  /** Distinct block hashes held by any endpoint (`prefix_indexer_size`). */
  size(): number {
    return this.#hashToEndpoints.size
  }

  #evict(endpointId: string, lru: BlockLru, capacity: number): void {
    while (lru.size > capacity) {
      const oldest = lru.evictOldest()!
      const holders = this.#hashToEndpoints.get(oldest)
      if (!holders) continue
      const rest = holders.filter((id) => id !== endpointId)
      if (rest.length === 0) this.#hashToEndpoints.delete(oldest)
      else this.#hashToEndpoints.set(oldest, rest)
    }
  }
}
