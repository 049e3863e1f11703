import { Counter, Histogram, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { BoundCounter, BoundHistogram } from './bound-metrics.js'

/** The same observations through prom-client's own metrics and through bound ones must expose the same text. */
describe('bound metrics', () => {
  it('expose exactly what prom-client counters and histograms expose', async () => {
    const ours = new Registry()
    const theirs = new Registry()
    const labelNames = ['point', 'plugin'] as const
    const buckets = [0.001, 0.01, 0.1]
    const c = new BoundCounter({ name: 'x_total', help: 'x', labelNames, registers: [ours] })
    const h = new BoundHistogram({ name: 'x_seconds', help: 'x', labelNames, buckets, registers: [ours] })
    const plain = new BoundHistogram({ name: 'y_seconds', help: 'y', buckets, registers: [ours] })
    const pc = new Counter({ name: 'x_total', help: 'x', labelNames, registers: [theirs] })
    const ph = new Histogram({ name: 'x_seconds', help: 'x', labelNames, buckets, registers: [theirs] })
    const pplain = new Histogram({ name: 'y_seconds', help: 'y', buckets, registers: [theirs] })
    const observations: [string, string, number][] = [
      ['Scorer', 'queue', 0.0005],
      ['Scorer', 'queue', 0.01],
      ['Filter', 'de"code', 0.05],
      ['Scorer', 'prefix', 3],
    ]
    for (const [point, plugin, v] of observations) {
      c.labels(point, plugin).inc()
      pc.inc({ point, plugin })
      h.labels(point, plugin).observe(v)
      ph.observe({ point, plugin }, v)
      plain.labels().observe(v)
      pplain.observe(v)
    }
    expect(await ours.metrics()).toBe(await theirs.metrics())
    expect(await ours.metrics()).toContain('x_seconds_bucket{le="0.01",point="Scorer",plugin="queue"} 2')
  })

  it('hands out one series per label values, and refuses the wrong number of values', () => {
    const c = new BoundCounter({ name: 'z_total', help: 'z', labelNames: ['a', 'b'], registers: [] })
    expect(c.labels('1', '2')).toBe(c.labels('1', '2'))
    expect(c.labels('1', '2')).not.toBe(c.labels('1', '3'))
    expect(() => c.labels('1')).toThrow(/expected 2 label values/)
  })

  it("take prom-client's labels-object form too, for code that finds them in the registry by name", () => {
    const c = new BoundCounter({ name: 'e_total', help: 'e', labelNames: ['a', 'b'], registers: [] })
    c.inc({ b: '2', a: '1' }, 3)
    expect(c.labels('1', '2').value).toBe(3)
    const h = new BoundHistogram({ name: 'e_seconds', help: 'e', labelNames: ['a'], buckets: [1], registers: [] })
    h.observe({ a: 'x' }, 0.5)
    expect(h.labels('x').count).toBe(1)
  })
})
