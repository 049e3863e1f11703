import type { Command } from 'commander'
import type { StackStatus } from '../runtime/stack-status.js'
import { fetchStackStatus, resolveAdmin } from './admin-client.js'
import { formatTable } from './table.js'

const KINDS = ['gateways', 'routes', 'pools', 'endpoints'] as const
type Kind = (typeof KINDS)[number]

export function registerGetCommand(program: Command): void {
  program
    .command('get')
    .description('show the running stack: gateways, routes (with status), pools, endpoints (with scraped metrics)')
    .argument('<kind>', KINDS.join('|'))
    .option('-o, --output <FORMAT>', 'table or json', 'table')
    .option('--admin <URL>', 'admin API of the running stack (default: from the state dir)')
    .option('--state-dir <DIR>', 'state dir of the running `maitred up`')
    .action(async (kind: string, opts: { output: string; admin?: string; stateDir?: string }) => {
      const singular = kind.replace(/s$/, '')
      const k = KINDS.find((x) => x === kind || x.replace(/s$/, '') === singular)
      if (!k) throw new Error(`unknown kind ${JSON.stringify(kind)}; one of ${KINDS.join(', ')}`)
      const status = await fetchStackStatus(await resolveAdmin(opts))
      process.stdout.write((opts.output === 'json' ? JSON.stringify(status[k], null, 2) : render(k, status)) + '\n')
    })
}

function render(kind: Kind, s: StackStatus): string {
  switch (kind) {
    case 'gateways':
      return formatTable(
        ['NAMESPACE', 'NAME', 'LISTENERS', 'ADDRESS', 'ATTACHED ROUTES', 'PROGRAMMED'],
        s.gateways.map((g) => [
          g.namespace,
          g.name,
          g.listeners.map((l) => `${l.name}/${l.protocol}:${l.port}`).join(','),
          g.addresses.join(',') || '<none>',
          String(g.listeners.reduce((n, l) => n + l.attachedRoutes, 0)),
          g.listeners.length > 0 ? 'True' : 'False',
        ]),
      )
    case 'routes':
      // The seed's "all valid paths for all gateways" listing, plus each parent's Accepted / ResolvedRefs conditions.
      return s.routes
        .flatMap((r) =>
          r.parents.flatMap((p) =>
            r.rules.flatMap((rule) =>
              rule.paths.map(
                (path) =>
                  `  Gateway: ${p.gateway.name.padEnd(30)} Path: ${path.value.padEnd(60)} -> ${rule.backends.join(', ').padEnd(45)} ` +
                  p.conditions.map((c) => `${c.type}=${c.status}${c.status === 'True' ? '' : `(${c.reason})`}`).join(' ') +
                  `  [${r.namespace}/${r.name}]`,
              ),
            ),
          ),
        )
        .join('\n')
    case 'pools':
      return formatTable(
        ['NAMESPACE', 'NAME', 'PICKER', 'CONFIG', 'FAILURE MODE', 'ENDPOINTS'],
        s.pools.map((p) => [p.namespace, p.name, p.remotePicker ? `remote ${p.remotePicker}` : p.picker, p.pickerConfig, p.failureMode, p.endpoints.join(',') || '<none>']),
      )
    case 'endpoints': {
      const table = formatTable(
        ['NAME', 'ADDRESS', 'KIND', 'HEALTHY', 'WAITING', 'RUNNING', 'KV%', 'POOLS', 'LABELS'],
        s.endpoints.map((e) => [
          e.id,
          e.address,
          e.kind,
          e.healthy ? 'True' : `False${e.lastError ? ` (${e.lastError})` : ''}`,
          e.metrics ? String(e.metrics.waitingQueueSize) : '-',
          e.metrics ? String(e.metrics.runningRequestsSize) : '-',
          e.metrics ? (e.metrics.kvCacheUsagePercent * 100).toFixed(1) : '-',
          e.pools.join(',') || '-',
          Object.entries(e.labels).map(([k, v]) => `${k}=${v}`).join(','),
        ]),
      )
      // A remote picker scrapes for its own decisions; say so, and whose figures the table shows.
      const remote = [...new Set(s.endpoints.flatMap((e) => e.remotePickers ?? []))].map((address) => {
        const ids = s.endpoints.filter((e) => e.remotePickers?.includes(address)).map((e) => e.id)
        return `${ids.join(', ')}: picked for by the remote picker at ${address} (ext_proc), from its own scrape; the figures above are the gateway's own scrape`
      })
      return [table, ...remote].join('\n')
    }
  }
}
