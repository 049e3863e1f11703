import { z } from 'zod'
import { labelMap, objectMeta, resourceName } from './object-meta.js'

const secretObjectReference = z.strictObject({
  group: z.string().optional(),
  kind: z.string().default('Secret'),
  name: resourceName,
  namespace: resourceName.optional(),
})

const listener = z.strictObject({
  name: z.string().min(1).max(253),
  hostname: z.string().optional(),
  port: z.number().int().min(1).max(65535),
  protocol: z.enum(['HTTP', 'HTTPS']),
  tls: z
    .strictObject({
      mode: z.enum(['Terminate']).default('Terminate'),
      certificateRefs: z.array(secretObjectReference).min(1).max(64).optional(),
      /** maitred: certificate and key files, instead of a Secret. */
      options: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  allowedRoutes: z
    .strictObject({
      namespaces: z
        .strictObject({
          from: z.enum(['All', 'Same', 'Selector']).default('Same'),
          selector: z.strictObject({ matchLabels: labelMap }).optional(),
        })
        .optional(),
      kinds: z.array(z.strictObject({ group: z.string().optional(), kind: z.string() })).optional(),
    })
    .optional(),
})

export const gatewaySchema = z
  .strictObject({
    apiVersion: z.literal('gateway.networking.k8s.io/v1'),
    kind: z.literal('Gateway'),
    metadata: objectMeta,
    spec: z.strictObject({
      gatewayClassName: z.string().default('maitred'),
      listeners: z.array(listener).min(1).max(64),
      /** Accepted as Gateway API declares it; where listeners bind is `maitred up --bind`. */
      addresses: z
        .array(z.strictObject({ type: z.enum(['IPAddress', 'Hostname']).default('IPAddress'), value: z.string() }))
        .max(16)
        .optional(),
    }),
  })
  .superRefine((gw, ctx) => {
    const names = new Set<string>()
    const protocolOfPort = new Map<number, string>()
    gw.spec.listeners.forEach((l, i) => {
      const at = ['spec', 'listeners', i]
      if (names.has(l.name)) ctx.addIssue({ code: 'custom', path: [...at, 'name'], message: `listener name ${l.name} is used twice` })
      names.add(l.name)
      if (l.protocol === 'HTTPS' && !l.tls) ctx.addIssue({ code: 'custom', path: [...at, 'tls'], message: 'HTTPS listeners need tls (certificateRefs or options)' })
      if (l.protocol === 'HTTP' && l.tls) ctx.addIssue({ code: 'custom', path: [...at, 'tls'], message: 'HTTP listeners take no tls' })
      const other = protocolOfPort.get(l.port)
      if (other && other !== l.protocol)
        ctx.addIssue({ code: 'custom', path: [...at, 'protocol'], message: `port ${l.port} is already ${other} (ProtocolConflict)` })
      protocolOfPort.set(l.port, l.protocol)
    })
  })
export type Gateway = z.output<typeof gatewaySchema>
export type GatewayListener = Gateway['spec']['listeners'][number]
