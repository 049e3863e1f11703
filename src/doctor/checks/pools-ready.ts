import { matchesLabels } from '../../controller/label-selector.js'
import { fail, pass, ref, warn, type DoctorCheck, type Finding } from '../check.js'
import { poolMembers } from '../pool-members.js'

const selectorText = (s: Record<string, string>) => Object.entries(s).map(([k, v]) => `${k}=${v}`).join(',')

export const poolsReady: DoctorCheck = {
  id: 'pools-ready',
  title: 'InferencePools have ready endpoints',
  seeds: "seeds' checks 4 and 6",
  symptom: 'requests answer 503 "no healthy upstream"',
  cause: "the pool's selector matches no ModelServer, or every selected model server is down or failing its metrics scrape",
  fix: "match the pool's spec.selector.matchLabels to the ModelServers' labels; restart or fix the failing servers",
  live({ status }) {
    return status.pools.map((pool): Finding => {
      const subject = ref('InferencePool', pool.namespace, pool.name)
      const members = poolMembers(status, pool.namespace, pool.name)
      if (members.length === 0)
        return fail(subject, `selector ${selectorText(pool.selector)} matches no endpoint`, `label the ModelServers ${selectorText(pool.selector)} (\`maitred get endpoints\` shows their labels)`)
      const down = members.filter((e) => !e.healthy)
      const lines = down.map((e) => `${e.id} (${e.lastError ?? 'unhealthy'})`).join('; ')
      if (down.length === members.length) return fail(subject, `no ready endpoint: ${lines}`, '`maitred get endpoints`; restart `maitred up` if a simulator died, or fix the external server')
      if (down.length > 0) return warn(subject, `${members.length - down.length}/${members.length} endpoints ready; down: ${lines}`, '`maitred get endpoints`')
      return pass(subject, `${members.length}/${members.length} endpoints ready (${members.map((e) => e.address).join(', ')})`)
    })
  },
  static({ stack }) {
    return stack.pools.map((pool) => {
      const subject = ref('InferencePool', pool.metadata.namespace, pool.metadata.name)
      const selector = pool.spec.selector.matchLabels
      const members = stack.modelServers.filter((m) => m.metadata.namespace === pool.metadata.namespace && matchesLabels(m.metadata.labels, selector))
      return members.length === 0
        ? fail(subject, `selector ${selectorText(selector)} matches no ModelServer in namespace ${pool.metadata.namespace}`, `label a ModelServer ${selectorText(selector)}`)
        : pass(subject, `selects ${members.length} ModelServer${members.length === 1 ? '' : 's'} (${members.map((m) => m.metadata.name).join(', ')})`)
    })
  },
}
