/**
 * Per-request scratch space shared by the plugins of one scheduling cycle (GIE's CycleState):
 * a producer writes what a scorer, a profile handler or a decider reads later in the same cycle.
 */
export class CycleState {
  readonly #values = new Map<string, unknown>()

  write<T>(key: string, value: T): void {
    this.#values.set(key, value)
  }

  read<T>(key: string): T | undefined {
    return this.#values.get(key) as T | undefined
  }
}
