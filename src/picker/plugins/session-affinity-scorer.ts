import { z } from 'zod'
import { durationMs } from '../framework/duration.js'
import type { PluginDefinition } from '../framework/registry.js'
import type { PreRequest, Scorer } from '../framework/types.js'

const parameters = z.strictObject({
  strategy: z.enum(['encoded_endpoint_header', 'session_id']).default('encoded_endpoint_header'),
  /** Profile whose pick the session sticks to (default: the primary). */
  profileName: z.string().min(1).optional(),
  sessionTTL: durationMs.default(300_000),
})
type Params = z.infer<typeof parameters>

export const SESSION_TOKEN_HEADER = 'x-session-token'
export const SESSION_ID_HEADER = 'x-session-id'

/**
 * llm-d: 1.0 for the endpoint that served the session before, 0 for the others.
 * `encoded_endpoint_header` (v0.3): the client echoes `x-session-token: base64(namespace/name)` from the previous response.
 * `session_id` (HEAD): the client sends `x-session-id`; the picker remembers its endpoint for `sessionTTL`.
 */
export const sessionAffinityScorer: PluginDefinition<Params> = {
  type: 'session-affinity-scorer',
  parameters,
  kinds: ['scorer', 'pre-request'],
  create: (name, p, ctx): Scorer & PreRequest => {
    const sessions = new Map<string, { endpointId: string; expires: number }>()
    const sessionEndpoint = (headers: Readonly<Record<string, string | undefined>>, now: number): string | undefined => {
      if (p.strategy === 'encoded_endpoint_header') {
        const token = headers[SESSION_TOKEN_HEADER]
        return token ? Buffer.from(token, 'base64').toString('utf8') : undefined
      }
      const id = headers[SESSION_ID_HEADER]
      const entry = id === undefined ? undefined : sessions.get(id)
      return entry && entry.expires > now ? entry.endpointId : undefined
    }
    return {
      type: 'session-affinity-scorer',
      name,
      score: (_cycle, request, endpoints) => {
        const id = sessionEndpoint(request.headers, request.now)
        return new Map(endpoints.map((e) => [e, e.ref.id === id ? 1 : 0]))
      },
      preRequest: (_cycle, request, result, mutations) => {
        const target = result.profileResults.get(p.profileName ?? result.primaryProfile)?.targets[0]
        if (!target) return
        if (p.strategy === 'encoded_endpoint_header') {
          mutations.responseHeaders[SESSION_TOKEN_HEADER] = Buffer.from(target.ref.id, 'utf8').toString('base64')
          return
        }
        const id = request.headers[SESSION_ID_HEADER]
        if (id === undefined) return
        const now = ctx.now()
        // Sweep on write: entries are in insertion order, so expired ones sit at the front.
        for (const [key, entry] of sessions) {
          if (entry.expires > now) break
          sessions.delete(key)
        }
        sessions.delete(id)
        sessions.set(id, { endpointId: target.ref.id, expires: now + p.sessionTTL })
      },
    }
  },
}
