import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { PdDecider } from '../framework/types.js'
import { alwaysDisaggMultimodalDecider } from './always-disagg-multimodal-decider.js'
import { createPlugin, makeEndpoint, makeRequest } from './contract/fixtures.js'
import { deciderContract } from './contract/decider-contract.js'

deciderContract(() => createPlugin(alwaysDisaggMultimodalDecider))

describe('always-disagg-multimodal-decider', () => {
  const decide = (content: unknown) =>
    createPlugin<PdDecider>(alwaysDisaggMultimodalDecider).disaggregate(new CycleState(), makeRequest({ body: { model: 'm', messages: [{ role: 'user', content }] } }), makeEndpoint('d'))
  it('approves image, video and audio parts only', () => {
    expect(decide('plain text')).toBe(false)
    expect(decide([{ type: 'text', text: 'hi' }])).toBe(false)
    for (const type of ['image_url', 'video_url', 'input_audio']) expect(decide([{ type: 'text', text: 'x' }, { type }])).toBe(true)
  })
})
