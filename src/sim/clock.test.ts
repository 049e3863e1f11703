import { describe, expect, it } from 'vitest'
import { ScaledClock } from './clock.js'

describe('ScaledClock', () => {
  it('fires at the target instant, never early, even after the event loop was blocked', async () => {
    const clock = new ScaledClock(1)
    const lateness: number[] = []
    for (const delay of [0, 0.3, 1.9, 2.7, 3.5, 4.8, 5.2, 6.6, 7.5, 9.9]) {
      // A long synchronous task leaves the event loop's cached time stale, which makes a plain setTimeout fire early.
      const busyUntil = performance.now() + 5
      while (performance.now() < busyUntil);
      const due = clock.now() + delay
      await new Promise<void>((resolve) => clock.setTimer(resolve, delay))
      lateness.push(clock.now() - due)
    }
    for (const ms of lateness) expect(ms).toBeGreaterThanOrEqual(0)
    // Late only by what the machine's load allows (a busy CI box can deschedule the process for a few ms).
    expect(Math.max(...lateness)).toBeLessThan(25)
  })

  it('scales delays and can be cancelled', async () => {
    const clock = new ScaledClock(10)
    let fired = false
    clock.setTimer(() => (fired = true), 5).cancel()
    const start = performance.now()
    await new Promise<void>((resolve) => clock.setTimer(resolve, 50))
    expect(performance.now() - start).toBeGreaterThanOrEqual(5)
    expect(fired).toBe(false)
  })
})
