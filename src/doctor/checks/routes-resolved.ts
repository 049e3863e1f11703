import { routeStatus, type RouteParentStatus } from '../../controller/route-status.js'
import { fail, pass, ref, type DoctorCheck, type Finding } from '../check.js'

/** One finding per route: accepted by every parent and every backendRef resolved, or the first condition that is not. */
function judge(route: { name: string; namespace: string; parents: RouteParentStatus[] }): Finding {
  const subject = ref('HTTPRoute', route.namespace, route.name)
  for (const p of route.parents) {
    const bad = p.conditions.find((c) => c.status !== 'True')
    if (!bad) continue
    const next =
      bad.type === 'ResolvedRefs'
        ? `declare the missing backend or fix the backendRef name (\`maitred get pools\` lists the pools): ${bad.message}`
        : `fix parentRefs or the gateway's allowedRoutes: ${bad.message}`
    return fail(subject, `${bad.type}=False on Gateway ${p.gateway.namespace}/${p.gateway.name} (${bad.reason}): ${bad.message}`, next)
  }
  if (route.parents.length === 0) return fail(subject, 'has no parentRefs: no gateway serves it', 'add spec.parentRefs naming the gateway')
  return pass(subject, `accepted by ${route.parents.map((p) => `${p.gateway.name} (${p.listeners.join(',')})`).join(', ')}; all backendRefs resolve`)
}

export const routesResolved: DoctorCheck = {
  id: 'routes-resolved',
  title: 'Routes are accepted and their backends resolve',
  seeds: "seeds' check 3",
  symptom: 'requests answer 404 "no route" or 500 "backendRef does not resolve"',
  cause: 'a parentRef names a missing gateway or listener, or a backendRef names a pool or Service that does not exist (dangling)',
  fix: 'fix the names in parentRefs / backendRefs; `maitred get routes` shows every path with its conditions',
  live: ({ status }) => status.routes.map(judge),
  static: ({ stack }) => stack.routes.map((r) => judge({ name: r.metadata.name, namespace: r.metadata.namespace, parents: routeStatus(r, stack) })),
}
