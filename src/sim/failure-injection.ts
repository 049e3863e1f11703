import type { FailureType } from './sim-options.js'
import { SeededRandom } from './random.js'

// Reliability testing: a percentage of requests fail on purpose, each with one kind drawn uniformly from the configured
// kinds. Off by default. The HTTP surface acts the failure out (status, reset socket, delay, silence).

export class FailureInjector {
  private readonly random: SeededRandom

  constructor(
    private readonly ratePercent: number,
    private readonly kinds: readonly FailureType[],
    seed: number,
  ) {
    this.random = new SeededRandom(seed ^ 0xfa11)
  }

  /** The failure for the next request, or null when it should succeed. */
  draw(): FailureType | null {
    if (this.ratePercent <= 0 || this.kinds.length === 0) return null
    if (this.random.next() * 100 >= this.ratePercent) return null
    return this.kinds[this.random.int(this.kinds.length)] ?? null
  }
}
