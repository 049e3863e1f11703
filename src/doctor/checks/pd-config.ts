import { matchesLabels } from '../../controller/label-selector.js'
import { pickerPluginTypes } from '../../runtime/stack-status.js'
import { fail, pass, ref, skip, type DoctorCheck, type Finding } from '../check.js'
import { poolMembers } from '../pool-members.js'

const PD_HANDLERS = ['pd-profile-handler', 'disagg-profile-handler']
const ROLE = 'llm-d.ai/role'

/** One pool's picker plugins against the roles of its endpoints. */
function judge(subject: string, plugins: readonly string[], roles: ReadonlySet<string>, remote: boolean): Finding {
  if (remote) return skip(subject, 'its picker runs elsewhere: its config is not visible here')
  const pd = plugins.find((p) => PD_HANDLERS.includes(p))
  const hasPrefill = roles.has('prefill')
  const roleList = [...roles].join(', ') || 'none'
  if (hasPrefill && !pd)
    return fail(
      subject,
      `endpoints have prefill/decode roles (${roleList}) but the picker config has no P/D profile handler: prefill and decode pods are scored alike and requests spread evenly`,
      'drop spec.router.scheduler.config so the controller\'s P/D default applies, or use pd-profile-handler with prefill and decode profiles (docs/observability.md shows it)',
    )
  if (pd && !hasPrefill)
    return fail(subject, `the picker config has ${pd} but no endpoint has ${ROLE}=prefill (roles: ${roleList}): prefill is never disaggregated`, `label the prefill ModelServers ${ROLE}: prefill (or add spec.prefill to the LLMInferenceService), or drop the P/D config`)
  return pass(subject, pd ? `${pd} with prefill and decode endpoints (roles: ${roleList})` : `no P/D roles and no P/D config (roles: ${roleList})`)
}

export const pdConfig: DoctorCheck = {
  id: 'pd-config',
  title: "The picker's config matches the pool's roles",
  seeds: "seeds' check 10 (bug 4: no P/D awareness)",
  symptom: 'the picker is live but traffic is still near-equal across prefill and decode pods; no KV reuse',
  cause: 'the pool has prefill/decode pods but the EndpointPickerConfig has a single default profile (or a P/D config on a pool without prefill pods)',
  fix: 'use pd-profile-handler with prefill and decode profiles on a P/D pool, and the default config elsewhere',
  live({ status }) {
    return status.pools.map((pool) => {
      const roles = new Set(poolMembers(status, pool.namespace, pool.name).map((e) => e.labels[ROLE] ?? 'both'))
      return judge(ref('InferencePool', pool.namespace, pool.name), pool.pickerPlugins, roles, pool.pickerPlugins.length === 0)
    })
  },
  static({ stack }) {
    return stack.pools.map((pool) => {
      const { namespace, name } = pool.metadata
      const picker = stack.pickers.find((p) => p.poolName === name && p.namespace === namespace)
      const members = stack.modelServers.filter((m) => m.metadata.namespace === namespace && matchesLabels(m.metadata.labels, pool.spec.selector.matchLabels))
      const roles = new Set(members.map((m) => m.metadata.labels?.[ROLE] ?? 'both'))
      return judge(ref('InferencePool', namespace, name), picker ? pickerPluginTypes(picker) : [], roles, !picker || picker.remote !== undefined)
    })
  },
}
