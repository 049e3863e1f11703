interface Entry {
  readonly key: number
  prev: Entry | undefined
  next: Entry | undefined
}

/**
 * A least-recently-used set of block hashes. Touching a key only moves list pointers: the Map is not mutated, so it
 * gathers no deleted entries and never stops a pick to rehash (a `Map` used as an LRU by delete+set does, every few
 * thousand touches, for milliseconds at 31 250 entries). Unlike `lru-cache`, nothing is preallocated per endpoint, which
 * matters with hundreds of endpoints of 31 250 blocks each.
 */
export class BlockLru {
  readonly #entries = new Map<number, Entry>()
  /** Least recently used. */
  #head: Entry | undefined
  /** Most recently used. */
  #tail: Entry | undefined

  get size(): number {
    return this.#entries.size
  }

  /** Marks `key` most recently used; returns true if it was new. */
  touch(key: number): boolean {
    const entry = this.#entries.get(key)
    if (entry) {
      if (entry !== this.#tail) {
        this.#unlink(entry)
        this.#append(entry)
      }
      return false
    }
    const created: Entry = { key, prev: undefined, next: undefined }
    this.#entries.set(key, created)
    this.#append(created)
    return true
  }

  /** Removes and returns the least recently used key. */
  evictOldest(): number | undefined {
    const oldest = this.#head
    if (!oldest) return undefined
    this.#unlink(oldest)
    this.#entries.delete(oldest.key)
    return oldest.key
  }

  #append(entry: Entry): void {
    entry.prev = this.#tail
    entry.next = undefined
    if (this.#tail) this.#tail.next = entry
    else this.#head = entry
    this.#tail = entry
  }

  #unlink(entry: Entry): void {
    if (entry.prev) entry.prev.next = entry.next
    else this.#head = entry.next
    if (entry.next) entry.next.prev = entry.prev
    else this.#tail = entry.prev
    entry.prev = entry.next = undefined
  }
}
