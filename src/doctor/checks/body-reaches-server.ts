import { fail, pass, ref, skip, type DoctorCheck, type Finding } from '../check.js'
import { backendEndpoints, doorName } from '../doors.js'
import { errorMessage, probe } from '../http-probe.js'

export const bodyReachesServer: DoctorCheck = {
  id: 'body-reaches-server',
  title: 'Request bodies reach the model server',
  seeds: "seeds' check 13 (bug 1: 400 \"Field required\")",
  symptom: 'GET /v1/models works but every POST /v1/chat/completions answers 400 "Field required"',
  cause: 'a hop between the client and the model server forwards the headers but loses the body (in the seeds: the ext_proc body mode FULL_DUPLEX_STREAMED)',
  fix: 'find the hop that drops it (gateway or in front of the model server) and make it forward the body',
  async live({ status, doors }) {
    const findings: Finding[] = []
    for (const door of doors.list) {
      const subject = doorName(door)
      const chat = await doors.chat(door)
      const r = chat.response
      if (chat.locked) findings.push(skip(subject, 'the door requires a key: pass --api-key to probe through it'))
      else if (r.status === 200) {
        const usage = (r.json as { usage?: { prompt_tokens?: number } } | undefined)?.usage
        findings.push(pass(subject, `the model server read the probe's body (${usage?.prompt_tokens ?? '?'} prompt tokens)`))
      } else if (r.status !== 400) findings.push(skip(subject, `the probe answered ${r.status || 'nothing'} (${errorMessage(r)}); see the end-to-end check`))
      else {
        // Which hop: the same request straight to an endpoint of the backend tells the gateway from the model server.
        const endpoint = backendEndpoints(status, door).find((e) => e.healthy)
        const direct = endpoint
          ? await probe(`${endpoint.url}/v1/chat/completions`, { method: 'POST', body: { ...(chat.model ? { model: chat.model } : {}), messages: [{ role: 'user', content: 'maitred doctor probe' }], max_tokens: 1 } })
          : undefined
        const where =
          direct?.status === 400
            ? `the model server ${endpoint!.id} itself loses it (sent straight to ${endpoint!.url} it answers 400 too)`
            : direct?.status === 200
              ? `sent straight to ${endpoint!.url} the same request works, so the gateway path loses it`
              : 'could not tell which hop'
        findings.push(
          fail(
            subject,
            `a valid chat completion was refused 400 "${errorMessage(r)}": its body did not reach the model server intact; ${where}`,
            direct?.status === 400
              ? `fix ${ref('ModelServer', endpoint!.id.split('/')[0]!, endpoint!.id.split('/')[1]!)}: whatever sits in front of it drops bodies (spec.simulator.dropRequestBody: true injects exactly this)`
              : '`maitred logs --route ' + door.route.split('/')[1] + '` shows bytes_received per request at the gateway',
          ),
        )
      }
    }
    return findings
  },
  static({ stack }) {
    const dropping = stack.modelServers.filter((m) => m.spec.simulator?.dropRequestBody)
    if (dropping.length === 0) return [pass('ModelServers', 'none is set to drop request bodies')]
    return dropping.map((m) =>
      fail(ref('ModelServer', m.metadata.namespace, m.metadata.name), 'spec.simulator.dropRequestBody is true: every POST will answer 400 "Field required"', 'remove spec.simulator.dropRequestBody (it injects the seeds\' bug 1)'),
    )
  },
}
