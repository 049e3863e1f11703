import { fail, pass, skip, type DoctorCheck, type Finding } from '../check.js'
import { doorName } from '../doors.js'
import { errorMessage, header, type ProbeResponse } from '../http-probe.js'

/** The next step for a failed chat completion, by what came back. */
function nextStep(r: ProbeResponse, modelsUrl: string): string {
  const code = (r.json as { error?: { code?: unknown } } | undefined)?.error?.code
  if (r.status === 0) return '`maitred get gateways` (is the stack up?)'
  if (code === 'route_not_found') return '`maitred get routes` lists the paths each gateway serves'
  if (r.status === 404) return `send a "model" listed by curl -s ${modelsUrl}`
  if (r.status === 400) return 'see the request-body check above'
  if (r.status === 401 || r.status === 403) return 'check the API key (--api-key / $MAITRED_API_KEY)'
  if (r.status === 429) return 'the pool is saturated or rate limited: retry later, or `maitred get endpoints` for queue depth'
  return '`maitred get endpoints` and `maitred logs --status 5xx`'
}

export const doorChat: DoctorCheck = {
  id: 'door-chat',
  title: 'Chat completions work end to end through each door',
  seeds: "seeds' check 13",
  symptom: 'a client gets an error (or nothing) from the gateway',
  cause: 'any hop above; the status and message say which',
  fix: 'follow the failing check above, or the next step given here',
  async live({ doors }) {
    const findings: Finding[] = []
    for (const door of doors.list) {
      const subject = doorName(door)
      const modelsUrl = door.url + door.modelsPath
      const chat = await doors.chat(door)
      const auth = chat.unauthenticated
      if (chat.requiresKey) {
        findings.push(pass(subject, `requires a key: rejected the probe without one (401, WWW-Authenticate: ${header(auth, 'www-authenticate')})`))
        if (chat.locked) {
          findings.push(skip(subject, 'with a key: not probed (pass --api-key KEY or set $MAITRED_API_KEY)'))
          continue
        }
      }
      const r = chat.response
      const withKey = chat.requiresKey ? 'with the key: ' : ''
      if (r.status === 200)
        findings.push(pass(subject, `${withKey}POST ${door.chatPath} → 200 in ${Math.round(r.ms)} ms (model ${chat.model ?? 'default'}, served by ${header(r, 'x-gateway-destination-endpoint-served') ?? '?'})`))
      else findings.push(fail(subject, `${withKey}POST ${door.chatPath} → ${r.status || 'no answer'}: ${errorMessage(r)}`, nextStep(r, modelsUrl)))
    }
    if (findings.length === 0) findings.push(fail('stack', 'no gateway has a route with a chat-completions path', '`maitred get routes`'))
    return findings
  },
}
