/** One value's place in a LinkedList: what `push` hands out and `remove` takes back. */
export class ListNode<T> {
  prev: ListNode<T> | undefined
  next: ListNode<T> | undefined

  constructor(
    public value: T | undefined,
    /** The list it is in; undefined once removed. */
    public owner: LinkedList<T> | undefined,
  ) {}
}

/**
 * A doubly-linked list of per-request records (oldest first), for state that must be found again without a lookup table:
 * a removed node is unlinked and cleared, so a node that V8 promoted and that then died keeps nothing of a later request
 * reachable for the scavenger — which a long-lived Map or Set does (docs/architecture.md, "No per-request objects in
 * long-lived hash tables"). Hand-written: yallist, the usual list on npm, leaves a shifted node's `next` in place (a
 * promoted dead node then keeps the next one reachable, and that one the next) and a removed node's value; caches such as
 * lru-cache are keyed, which is a hash table again.
 */
export class LinkedList<T> {
  #head: ListNode<T> | undefined
  #tail: ListNode<T> | undefined
  #size = 0

  get size(): number {
    return this.#size
  }

  /** The oldest value. */
  get first(): T | undefined {
    return this.#head?.value
  }

  push(value: T): ListNode<T> {
    const node = new ListNode(value, this)
    node.prev = this.#tail
    if (this.#tail) this.#tail.next = node
    else this.#head = node
    this.#tail = node
    this.#size++
    return node
  }

  /** Takes the node out and clears it (false when it is not in this list, or no longer). */
  remove(node: ListNode<T>): boolean {
    if (node.owner !== this) return false
    if (node.prev) node.prev.next = node.next
    else this.#head = node.next
    if (node.next) node.next.prev = node.prev
    else this.#tail = node.prev
    node.prev = node.next = node.value = node.owner = undefined
    this.#size--
    return true
  }

  /**
   * Takes out the node a pick handed out as its ticket and returns its value; undefined when the ticket is not one of this
   * list's nodes, or was taken out already (a second completion, an expired entry).
   */
  take(ticket: unknown): T | undefined {
    if (!(ticket instanceof ListNode)) return undefined
    const value = (ticket as ListNode<T>).value
    return this.remove(ticket as ListNode<T>) ? value : undefined
  }

  /** Takes out the oldest node. */
  shift(): T | undefined {
    const head = this.#head
    if (!head) return undefined
    const value = head.value
    this.remove(head)
    return value
  }
}
