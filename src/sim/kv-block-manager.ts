import type { BlockHash } from './block-hash.js'

// The paged KV cache of vLLM V1 (block_pool.py / kv_cache_manager.py): a fixed pool of blocks, a free queue that doubles as
// the LRU of cached blocks, and a map from block hash to a cached block. Block 0 is vLLM's reserved null block, so
// usage = 1 − free / (numGpuBlocks − 1) exactly as vllm:kv_cache_usage_perc reports it.

/** What the manager needs to know about one sequence. */
export interface KvSequence {
  /** The sequence's block table, in order. */
  blocks: number[]
  /** How many leading blocks are full, hashed and registered in the cache. */
  numCachedBlocks: number
  /** Prompt and output token ids (what a BlockStored event carries). */
  readonly tokenIds: ArrayLike<number>
  readonly loraName: string | null
}

/**
 * Told of every change to the prefix cache's lookup map, as vLLM's KV events report them: a run of blocks entering it
 * (with the parent of the first, null at the start of a sequence), one block leaving it, the whole map dropped.
 */
export interface KvCacheEventSink {
  blockStored(hashes: readonly BlockHash[], parent: BlockHash | null, tokenIds: ArrayLike<number>, firstToken: number, loraName: string | null): void
  blockRemoved(hash: BlockHash): void
  allBlocksCleared(): void
}

const NONE = -1

export class KvBlockManager {
  readonly usableBlocks: number
  private readonly refCount: Int32Array
  private readonly prev: Int32Array
  private readonly next: Int32Array
  private readonly blockHash: (BlockHash | null)[]
  private readonly cached = new Map<BlockHash, number>()
  /**
   * Other blocks holding a cached hash (two sequences computed the same prefix at once): one takes over the hash when the
   * block in `cached` is evicted, as vLLM keeps every block of a hash. Rare, so kept apart from `cached`.
   */
  private readonly duplicates = new Map<BlockHash, number[]>()
  private head = NONE
  private tail = NONE
  private free = 0
  /** Cached blocks dropped to make room (for tests and stats). */
  evictions = 0
  /** Where stores and evictions are reported (the KV events publisher); none by default. */
  events: KvCacheEventSink | null = null

  constructor(
    readonly numGpuBlocks: number,
    readonly blockSize: number,
    readonly enablePrefixCaching: boolean,
  ) {
    if (numGpuBlocks < 2) throw new Error('numGpuBlocks must be at least 2 (block 0 is reserved)')
    this.usableBlocks = numGpuBlocks - 1
    this.refCount = new Int32Array(numGpuBlocks)
    this.prev = new Int32Array(numGpuBlocks).fill(NONE)
    this.next = new Int32Array(numGpuBlocks).fill(NONE)
    this.blockHash = new Array<BlockHash | null>(numGpuBlocks).fill(null)
    for (let id = 1; id < numGpuBlocks; id++) this.pushTail(id)
  }

  get numFreeBlocks(): number {
    return this.free
  }

  /** The fraction of usable blocks held by sequences (cached-but-free blocks count as free, as in vLLM). */
  usage(): number {
    return 1 - this.free / this.usableBlocks
  }

  blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.blockSize)
  }

  /**
   * The longest run of leading blocks already cached (vLLM find_longest_cache_hit). At most (numTokens − 1) tokens can hit,
   * because the last token is always recomputed to produce logits.
   */
  findCachedPrefix(hashes: readonly BlockHash[], numTokens: number): number[] {
    if (!this.enablePrefixCaching) return []
    const maxBlocks = Math.min(hashes.length, Math.floor((numTokens - 1) / this.blockSize))
    const hit: number[] = []
    for (let i = 0; i < maxBlocks; i++) {
      const id = this.cached.get(hashes[i] as BlockHash)
      if (id === undefined) break
      hit.push(id)
    }
    return hit
  }

  /**
   * Grows `seq` to hold `totalTokens` tokens, first adopting `cachedPrefix` (blocks found by findCachedPrefix, for a sequence
   * with no blocks yet). Returns false, changing nothing, when the free blocks do not suffice.
   */
  allocate(seq: KvSequence, totalTokens: number, cachedPrefix: readonly number[] = []): boolean {
    const needed = this.blocksFor(totalTokens) - seq.blocks.length - cachedPrefix.length
    // Cached blocks nobody references sit in the free queue: adopting them takes them out of it.
    let adoptedFree = 0
    for (const id of cachedPrefix) if (this.refCount[id] === 0) adoptedFree++
    if (Math.max(0, needed) + adoptedFree > this.free) return false
    for (const id of cachedPrefix) {
      if (this.refCount[id] === 0) this.unlink(id)
      this.refCount[id] = (this.refCount[id] as number) + 1
      seq.blocks.push(id)
    }
    // Only adopted blocks are known cached: blocks the sequence already held (a growing decode block, KV pulled from a
    // prefill pod) are registered by cacheFullBlocks once computed.
    if (cachedPrefix.length > 0) seq.numCachedBlocks = Math.max(seq.numCachedBlocks, seq.blocks.length)
    for (let i = 0; i < needed; i++) seq.blocks.push(this.takeFreeBlock())
    return true
  }

  /** Registers the sequence's full, computed blocks in the prefix cache, so later requests can reuse them. */
  cacheFullBlocks(seq: KvSequence, hashes: readonly BlockHash[], numComputedTokens: number): void {
    if (!this.enablePrefixCaching) return
    const full = Math.min(Math.floor(numComputedTokens / this.blockSize), hashes.length, seq.blocks.length)
    // Events report the lookup map, so a run of blocks new to it is one BlockStored (a duplicate breaks the run).
    let runStart = -1
    for (let i = seq.numCachedBlocks; i < full; i++) {
      const id = seq.blocks[i] as number
      const hash = hashes[i] as BlockHash
      this.blockHash[id] = hash
      // Duplicate blocks can exist (the block table is append-only); the map keeps the first.
      if (!this.cached.has(hash)) {
        this.cached.set(hash, id)
        if (runStart < 0) runStart = i
        continue
      }
      const others = this.duplicates.get(hash)
      if (others) others.push(id)
      else this.duplicates.set(hash, [id])
      if (runStart >= 0) {
        this.#stored(seq, hashes, runStart, i)
        runStart = -1
      }
    }
    if (runStart >= 0) this.#stored(seq, hashes, runStart, full)
    seq.numCachedBlocks = Math.max(seq.numCachedBlocks, full)
  }

  /**
   * Drops every cached hash (vLLM reset_prefix_cache): only when no sequence holds a block, as vLLM refuses otherwise.
   * Returns whether it did.
   */
  resetPrefixCache(): boolean {
    if (this.free !== this.usableBlocks) return false
    this.cached.clear()
    this.duplicates.clear()
    this.blockHash.fill(null)
    this.events?.allBlocksCleared()
    return true
  }

  /** A block leaves the cache: its hash stays cached while a duplicate holds it, and is reported removed otherwise. */
  #uncache(hash: BlockHash, id: number): void {
    const others = this.duplicates.get(hash)
    if (this.cached.get(hash) !== id) {
      // A duplicate itself.
      if (!others) return
      others.splice(others.indexOf(id), 1)
      if (others.length === 0) this.duplicates.delete(hash)
      return
    }
    if (others) {
      this.cached.set(hash, others.pop() as number)
      if (others.length === 0) this.duplicates.delete(hash)
      return
    }
    this.cached.delete(hash)
    this.events?.blockRemoved(hash)
  }

  #stored(seq: KvSequence, hashes: readonly BlockHash[], start: number, end: number): void {
    this.events?.blockStored(hashes.slice(start, end), start > 0 ? (hashes[start - 1] as BlockHash) : null, seq.tokenIds, start * this.blockSize, seq.loraName)
  }

  /**
   * Releases a sequence's blocks. Tail blocks are freed first so the end of a chain is evicted before its start. Every
   * freed block joins the queue's tail, hashed or not, as vLLM V1's free_blocks does: an unhashed block (a sequence's
   * partial last block) takes its turn in the LRU rather than being reused first, so cached blocks are evicted as early
   * as vLLM evicts them.
   */
  release(seq: KvSequence): void {
    for (let i = seq.blocks.length - 1; i >= 0; i--) {
      const id = seq.blocks[i] as number
      const left = (this.refCount[id] as number) - 1
      this.refCount[id] = left
      if (left === 0) this.pushTail(id)
    }
    seq.blocks = []
    seq.numCachedBlocks = 0
  }

  private takeFreeBlock(): number {
    const id = this.head
    if (id === NONE) throw new Error('KV block pool exhausted')
    this.unlink(id)
    const hash = this.blockHash[id]
    if (hash != null) {
      this.#uncache(hash, id)
      this.blockHash[id] = null
      this.evictions++
    }
    this.refCount[id] = 1
    return id
  }

  private pushTail(id: number): void {
    this.prev[id] = this.tail
    this.next[id] = NONE
    if (this.tail === NONE) this.head = id
    else this.next[this.tail] = id
    this.tail = id
    this.free++
  }

  private unlink(id: number): void {
    const p = this.prev[id] as number
    const n = this.next[id] as number
    if (p === NONE) this.head = n
    else this.next[p] = n
    if (n === NONE) this.tail = p
    else this.prev[n] = p
    this.prev[id] = NONE
    this.next[id] = NONE
    this.free--
  }
}
