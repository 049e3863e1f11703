import { connect } from 'node:net'
import { routeStatus } from '../../controller/route-status.js'
import { fail, pass, ref, warn, type DoctorCheck, type Finding } from '../check.js'

/** TCP connect to a listener URL: is something accepting there? */
function reachable(url: string): Promise<string | undefined> {
  const u = new URL(url)
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname, port: Number(u.port) || (u.protocol === 'https:' ? 443 : 80) })
    socket.setTimeout(2000, () => socket.destroy(new Error('connect timed out')))
    socket.once('connect', () => {
      socket.destroy()
      resolve(undefined)
    })
    socket.once('error', (err) => resolve(err.message))
  })
}

export const gatewaysListening: DoctorCheck = {
  id: 'gateways-listening',
  title: 'Gateways are listening and have addresses',
  seeds: "seeds' checks 1–2",
  symptom: 'curl to the gateway hangs or says "connection refused"; `get gateway` shows no address',
  cause: 'a listener could not bind its port (in use by another process), or no route attaches to the gateway',
  fix: 'free the port or change the listener port; attach a route (parentRefs) to the gateway',
  async live({ status }) {
    const findings: Finding[] = []
    for (const g of status.gateways) {
      const subject = ref('Gateway', g.namespace, g.name)
      if (g.listeners.length === 0) {
        findings.push(fail(subject, 'no listener is running, so it has no address', '`maitred get gateways`, and read `maitred up`\'s output for the port that failed to bind'))
        continue
      }
      for (const l of g.listeners) {
        const error = await reachable(l.url)
        if (error) findings.push(fail(subject, `listener ${l.name} at ${l.url} does not accept connections: ${error}`, `restart \`maitred up\` and check the port ${l.port} is free (\`ss -ltnp | grep :${l.port}\`)`))
        else if (l.attachedRoutes === 0) findings.push(warn(subject, `listener ${l.name} at ${l.url} accepts connections but no route attaches to it: every request answers 404`, 'add this gateway to a route\'s parentRefs (or spec.router.gateway.refs)'))
        else findings.push(pass(subject, `listener ${l.name} at ${l.url} (${l.attachedRoutes} route${l.attachedRoutes === 1 ? '' : 's'})`))
      }
    }
    return findings
  },
  static({ stack }) {
    return stack.gateways.map((g) => {
      const subject = ref('Gateway', g.metadata.namespace, g.metadata.name)
      const attached = stack.routes.filter((r) => routeStatus(r, stack).some((p) => p.gateway.name === g.metadata.name && p.gateway.namespace === g.metadata.namespace && p.listeners.length > 0))
      const listeners = g.spec.listeners.map((l) => `${l.name}/${l.protocol}:${l.port}`).join(', ')
      return attached.length === 0
        ? warn(subject, `listeners ${listeners}; no route attaches: every request will answer 404`, "add the gateway to a route's parentRefs (or spec.router.gateway.refs)")
        : pass(subject, `listeners ${listeners}; ${attached.length} route${attached.length === 1 ? '' : 's'} attached`)
    })
  },
}
