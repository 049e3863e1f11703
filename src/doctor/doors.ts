import { randomUUID } from 'node:crypto'
import type { StackStatus } from '../runtime/stack-status.js'
import { poolMembers } from './pool-members.js'
import { header, probe, type ProbeResponse } from './http-probe.js'

/** One way in: a gateway listener and a route attached to it, with the paths a client uses. */
export interface Door {
  /** `namespace/name` of the Gateway. */
  gateway: string
  /** `namespace/name` of the HTTPRoute. */
  route: string
  /** Base URL of the listener probed (plain HTTP preferred: the probe checks routing, not the gateway's certificate). */
  url: string
  chatPath: string
  modelsPath: string
  /** `InferencePool/<name>` when chat completions go through a picker, else the backend they go to. */
  chatBackend: string
  /** The LLMInferenceService the route was derived from, if any: its name is the Kubernetes name of the model. */
  derivedFrom?: string
}

/** What a chat probe found: the answer without a key, and (when the door asks for one and a key was given) with it. */
export interface ChatProbe {
  requestId: string
  /** The door answered 401 with `WWW-Authenticate`. */
  requiresKey: boolean
  unauthenticated: ProbeResponse
  /** The answer to use: with the key when the door requires one and a key was given, else the unauthenticated one. */
  response: ProbeResponse
  /** True when the door requires a key and none was given: the probe could not get past the door. */
  locked: boolean
  model: string | undefined
}

export interface ModelsProbe {
  response: ProbeResponse
  ids: string[]
}

const modelIds = (r: ProbeResponse) => ((r.json as { data?: { id?: unknown }[] } | undefined)?.data ?? []).map((m) => String(m.id))

/** The endpoints behind a door's chat backend (a pool's members; a Service's endpoints are not in the status). */
export function backendEndpoints(status: StackStatus, door: Door) {
  if (!door.chatBackend.startsWith('InferencePool/')) return []
  return poolMembers(status, door.route.split('/')[0]!, door.chatBackend.slice('InferencePool/'.length))
}

/** Path values end without a slash: `/a/b/` + `v1/models` must not become `/a/b//v1/models`. */
const trim = (p: string) => p.replace(/\/+$/, '')

/** The doors of a running stack, and memoised probes through them (several checks read the same answers). */
export class Doors {
  readonly list: Door[]
  readonly #status: StackStatus
  readonly #chat = new Map<Door, Promise<ChatProbe>>()
  readonly #models = new Map<Door, Promise<ModelsProbe>>()

  constructor(
    status: StackStatus,
    readonly apiKey: string | undefined,
  ) {
    this.list = findDoors(status)
    this.#status = status
  }

  authHeaders(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}
  }

  models(door: Door): Promise<ModelsProbe> {
    let p = this.#models.get(door)
    if (!p) {
      p = probe(door.url + door.modelsPath, { headers: this.authHeaders() }).then((response) => ({ response, ids: modelIds(response) }))
      this.#models.set(door, p)
    }
    return p
  }

  /** One chat completion asking for the picker's explain table (`x-maitred-explain: 1`), with the model the door lists. */
  chat(door: Door): Promise<ChatProbe> {
    let p = this.#chat.get(door)
    if (!p) {
      p = this.#chatProbe(door)
      this.#chat.set(door, p)
    }
    return p
  }

  /** A chat completion with this message and request id, through the door (with the key when one is given). */
  async send(door: Door, content: string, requestId = `doctor-${randomUUID()}`, model?: string): Promise<ProbeResponse> {
    return probe(door.url + door.chatPath, {
      method: 'POST',
      headers: { 'x-request-id': requestId, 'x-maitred-explain': '1', ...this.authHeaders() },
      body: { ...(model ? { model } : {}), messages: [{ role: 'user', content }], max_tokens: 3 },
    })
  }

  /**
   * The models to send: those the door lists, else those an endpoint behind it lists (a route that sends everything to a
   * pool cannot answer GET /v1/models: the picker needs a body with a model).
   */
  async servedModels(door: Door): Promise<{ ids: string[]; from: string }> {
    const listed = await this.models(door)
    if (listed.ids.length > 0) return { ids: listed.ids, from: door.url + door.modelsPath }
    const endpoints = backendEndpoints(this.#status, door)
    const endpoint = endpoints.find((e) => e.healthy) ?? endpoints[0]
    return endpoint ? { ids: modelIds(await probe(`${endpoint.url}/v1/models`)), from: `endpoint ${endpoint.id}` } : { ids: [], from: 'nowhere' }
  }

  async #chatProbe(door: Door): Promise<ChatProbe> {
    const model = (await this.servedModels(door)).ids[0]
    const requestId = `doctor-${randomUUID()}`
    const body = { ...(model ? { model } : {}), messages: [{ role: 'user', content: 'maitred doctor probe: say hi' }], max_tokens: 3 }
    const headers = { 'x-request-id': requestId, 'x-maitred-explain': '1' }
    const unauthenticated = await probe(door.url + door.chatPath, { method: 'POST', headers, body })
    const requiresKey = unauthenticated.status === 401 && header(unauthenticated, 'www-authenticate') !== undefined
    if (!requiresKey) return { requestId, requiresKey, unauthenticated, response: unauthenticated, locked: false, model }
    if (!this.apiKey) return { requestId, requiresKey, unauthenticated, response: unauthenticated, locked: true, model }
    const response = await probe(door.url + door.chatPath, { method: 'POST', headers: { ...headers, ...this.authHeaders() }, body })
    return { requestId, requiresKey, unauthenticated, response, locked: false, model }
  }
}

/**
 * Every (gateway, route) pair whose route is accepted there and has a chat-completions path or an InferencePool backend.
 * The chat path is the rule's own when it ends in `/v1/chat/completions`, else the rule's prefix plus it.
 */
export function findDoors(status: StackStatus): Door[] {
  const doors: Door[] = []
  for (const route of status.routes) {
    const rules = route.rules.flatMap((rule) => rule.paths.map((p) => ({ path: p.value, backends: rule.backends })))
    const chat =
      rules.find((r) => trim(r.path).endsWith('/v1/chat/completions')) ?? rules.find((r) => r.backends.some((b) => b.startsWith('InferencePool/')))
    if (!chat) continue
    const chatPath = trim(chat.path).endsWith('/v1/chat/completions') ? trim(chat.path) : `${trim(chat.path)}/v1/chat/completions`
    const modelsPath = chatPath.replace(/\/chat\/completions$/, '/models')
    for (const parent of route.parents) {
      if (parent.conditions[0].status !== 'True') continue
      const gw = status.gateways.find((g) => g.name === parent.gateway.name && g.namespace === parent.gateway.namespace)
      const listeners = gw?.listeners.filter((l) => parent.listeners.includes(l.name)) ?? []
      const listener = listeners.find((l) => l.protocol === 'HTTP') ?? listeners[0]
      if (!listener) continue
      doors.push({
        gateway: `${parent.gateway.namespace}/${parent.gateway.name}`,
        route: `${route.namespace}/${route.name}`,
        url: listener.url,
        chatPath,
        modelsPath,
        chatBackend: chat.backends.join(', '),
        ...(route.derivedFrom ? { derivedFrom: route.derivedFrom } : {}),
      })
    }
  }
  return doors
}

/** How a finding names a door. */
export const doorName = (d: Door) => `${d.gateway} → ${d.route}`
