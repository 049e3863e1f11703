import type { ExplainedDecision } from '../../runtime/explain-history.js'
import { fail, pass, ref, skip, warn, type DoctorCheck, type Finding } from '../check.js'
import { doorName } from '../doors.js'
import { errorMessage, header, probe } from '../http-probe.js'

const INFERENCE_PATH = /\/v1\/(chat\/)?completions\/?$/

export const pickerConsulted: DoctorCheck = {
  id: 'picker-consulted',
  title: 'The endpoint picker is reachable and actually consulted',
  seeds: "seeds' checks 5, 7, 8 (bug 2: cx_total: 0)",
  symptom: 'requests succeed but spread evenly over the replicas (25/25/25/25); scorer weights change nothing',
  cause:
    'chat completions bypass the picker: the route sends them to a Service (round-robin) instead of the InferencePool, or the pool\'s picker is unreachable and failureMode FailOpen silently forwards to a random endpoint',
  fix: 'route /v1/chat/completions and /v1/completions to the InferencePool; make its picker reachable (or use FailClose to see the failure)',
  async live({ status, doors, admin }) {
    const findings: Finding[] = []
    for (const door of doors.list) {
      const subject = doorName(door)
      if (!door.chatBackend.startsWith('InferencePool/')) {
        findings.push(fail(subject, `chat completions go to ${door.chatBackend}: round-robin, the picker never sees them`, `point the rule for ${door.chatPath} at the InferencePool (backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: …}])`))
        continue
      }
      const chat = await doors.chat(door)
      if (chat.locked) {
        findings.push(skip(subject, 'the door requires a key: pass --api-key to probe through it'))
        continue
      }
      const r = chat.response
      const poolName = door.chatBackend.slice('InferencePool/'.length)
      const pool = status.pools.find((p) => p.name === poolName && `${p.namespace}/` === door.route.slice(0, door.route.indexOf('/') + 1))
      if (r.status === 503 && (r.json as { error?: { code?: string } })?.error?.code === 'picker_unavailable') {
        findings.push(fail(subject, `the picker did not answer: ${errorMessage(r)}`, `\`maitred get pools\`: start the pool's picker (${pool?.picker ?? poolName}) or fix its address`))
        continue
      }
      const decision = await probe(`${admin}/api/v1/explain/${chat.requestId}`).then((x) => (x.status === 200 ? (x.json as ExplainedDecision) : undefined))
      if (decision) {
        findings.push(pass(subject, `the probe carried the picker's decision: ${decision.endpoint} (profiles ${decision.profiles.join(', ')}; ${new Set(decision.rows.map((row) => row.endpoint)).size} candidates scored)`))
        continue
      }
      if (header(r, 'x-maitred-explain')) {
        findings.push(pass(subject, `the probe carried the picker's decision (${header(r, 'x-maitred-explain')})`))
        continue
      }
      if (r.status === 0 || r.status >= 500 || r.status === 404) {
        findings.push(skip(subject, `the probe did not reach the pool (${r.status || 'no answer'}: ${errorMessage(r)}); see the end-to-end check`))
        continue
      }
      const failOpen = pool?.failureMode === 'FailOpen'
      findings.push(
        fail(
          subject,
          `answered ${r.status} but carried no routing decision: the picker was not consulted${failOpen ? ' and FailOpen sent the request to a random endpoint' : ''}`,
          `\`maitred get pools\`: the picker of ${ref('InferencePool', pool?.namespace ?? '?', poolName)} (${pool?.picker ?? '?'}) must answer${failOpen ? '; fix its address (annotation maitred.dev/endpoint-picker-address) or set failureMode: FailClose to see the failure' : ''}`,
        ),
      )
    }
    if (findings.length === 0) findings.push(skip('stack', 'no route with a chat-completions path or an InferencePool backend'))
    return findings
  },
  static({ stack }) {
    const findings: Finding[] = []
    for (const route of stack.routes) {
      const subject = ref('HTTPRoute', route.metadata.namespace, route.metadata.name)
      for (const rule of route.spec.rules) {
        const inference = rule.matches.map((m) => m.path?.value ?? '/').filter((p) => INFERENCE_PATH.test(p))
        const bypass = (rule.backendRefs ?? []).filter((b) => b.kind !== 'InferencePool')
        if (inference.length > 0 && bypass.length > 0)
          findings.push(fail(subject, `${inference.join(', ')} goes to ${bypass.map((b) => `${b.kind}/${b.name}`).join(', ')}: round-robin, the picker is never consulted`, 'set that rule\'s backendRefs to the InferencePool'))
      }
    }
    for (const pool of stack.pools) {
      const picker = stack.pickers.find((p) => p.poolName === pool.metadata.name && p.namespace === pool.metadata.namespace)
      const subject = ref('InferencePool', pool.metadata.namespace, pool.metadata.name)
      if (picker?.remote && pool.spec.endpointPickerRef?.failureMode === 'FailOpen')
        findings.push(warn(subject, `remote picker ${picker.remote.address} with failureMode FailOpen: if it is unreachable, requests silently go to random endpoints`, 'run `maitred doctor` against the running stack to see whether it is consulted'))
      else findings.push(pass(subject, `picker ${picker?.remote ? `at ${picker.remote.address}` : `${picker?.name ?? '?'} (in process, config: ${picker?.configSource ?? '?'})`}`))
    }
    return findings
  },
}
