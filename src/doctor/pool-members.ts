import type { StackStatus } from '../runtime/stack-status.js'

/** The endpoints of a pool in a running stack (a status endpoint lists its pools by name; its id starts with its namespace). */
export const poolMembers = (status: StackStatus, namespace: string, pool: string) => status.endpoints.filter((e) => e.pools.includes(pool) && e.id.startsWith(`${namespace}/`))
