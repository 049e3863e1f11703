import { describe, expect, it } from 'vitest'
import { CycleState } from '../framework/cycle-state.js'
import type { PreRequest, Scorer } from '../framework/types.js'
import { createPlugin, emptyMutations, makeEndpoint, makeRequest, resultFor } from './contract/fixtures.js'
import { scorerContract } from './contract/scorer-contract.js'
import { sessionAffinityScorer } from './session-affinity-scorer.js'

scorerContract(() => createPlugin(sessionAffinityScorer))

describe('session-affinity-scorer', () => {
  const eps = [makeEndpoint('a'), makeEndpoint('b')]
  it('encoded_endpoint_header: sets x-session-token on the response and scores that endpoint 1 next time', () => {
    const plugin = createPlugin<Scorer & PreRequest>(sessionAffinityScorer)
    const mutations = emptyMutations()
    plugin.preRequest(new CycleState(), makeRequest(), resultFor([eps[1]!]), mutations)
    const token = mutations.responseHeaders['x-session-token']
    expect(Buffer.from(token!, 'base64').toString()).toBe('default/b')
    const s = plugin.score(new CycleState(), makeRequest({ headers: { 'x-session-token': token } }), eps)
    expect(eps.map((e) => s.get(e))).toEqual([0, 1])
  })
  it('session_id: remembers x-session-id until the TTL passes', () => {
    const plugin = createPlugin<Scorer & PreRequest>(sessionAffinityScorer, { strategy: 'session_id', sessionTTL: '10s' })
    const headers = { 'x-session-id': 'user-42' }
    plugin.preRequest(new CycleState(), makeRequest({ headers }), resultFor([eps[0]!]), emptyMutations())
    const now = 1_000_050 // the fixture clock
    const at = (t: number) => plugin.score(new CycleState(), makeRequest({ headers, now: t }), eps)
    expect(eps.map((e) => at(now + 1000).get(e))).toEqual([1, 0])
    expect(eps.map((e) => at(now + 11_000).get(e))).toEqual([0, 0])
  })
})
