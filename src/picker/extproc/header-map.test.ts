import { describe, expect, it } from 'vitest'
import { headerMapToRecord } from './header-map.js'

describe('headerMapToRecord', () => {
  it('reads raw_value (Envoy ≥ 1.27) and value (older), lower-cases keys and joins repeats', () => {
    const record = headerMapToRecord({
      headers: [
        { key: 'Content-Type', raw_value: Buffer.from('application/json') },
        { key: 'x-old', value: 'v', raw_value: Buffer.alloc(0) },
        { key: 'accept', value: 'a' },
        { key: 'accept', value: 'b' },
      ],
    })
    expect(record).toEqual({ 'content-type': 'application/json', 'x-old': 'v', accept: 'a,b' })
  })
})
