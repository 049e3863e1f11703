import { z } from 'zod'
import { objectMeta } from './object-meta.js'

const pem = (label: string) => z.string().refine((v) => v.includes(`-----BEGIN ${label}`) || /-----BEGIN [A-Z ]*PRIVATE KEY/.test(v), `must be PEM`)

/**
 * A Kubernetes TLS Secret (type kubernetes.io/tls), the certificate a Gateway listener's `tls.certificateRefs` names.
 * Values in `data` are base64, as Kubernetes stores them; `stringData` takes the PEM text as is.
 */
const tlsSecret = z
  .strictObject({
    apiVersion: z.literal('v1'),
    kind: z.literal('Secret'),
    metadata: objectMeta,
    type: z.literal('kubernetes.io/tls'),
    data: z.strictObject({ 'tls.crt': z.base64(), 'tls.key': z.base64(), 'ca.crt': z.base64().optional() }).optional(),
    stringData: z.strictObject({ 'tls.crt': pem('CERTIFICATE'), 'tls.key': pem('PRIVATE KEY'), 'ca.crt': pem('CERTIFICATE').optional() }).optional(),
  })
  .superRefine((s, ctx) => {
    if ((s.data === undefined) === (s.stringData === undefined))
      ctx.addIssue({ code: 'custom', path: [], message: 'set exactly one of data or stringData with tls.crt and tls.key' })
  })
  .transform((s) => {
    const decode = (v: string | undefined) => (v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8'))
    const cert = s.stringData?.['tls.crt'] ?? decode(s.data?.['tls.crt'])!
    const key = s.stringData?.['tls.key'] ?? decode(s.data?.['tls.key'])!
    return { ...s, tls: { cert, key } }
  })

/**
 * An Opaque Secret; one with an `api_key` entry is an API key for AuthPolicy `apiKey.selector` (as Authorino reads them),
 * its labels selecting it and its annotations readable as `auth.identity.metadata.annotations`.
 */
const opaqueSecret = z
  .strictObject({
    apiVersion: z.literal('v1'),
    kind: z.literal('Secret'),
    metadata: objectMeta,
    type: z.literal('Opaque'),
    data: z.record(z.string(), z.base64()).optional(),
    stringData: z.record(z.string(), z.string()).optional(),
  })
  .transform((s) => {
    const values: Record<string, string> = {}
    for (const [k, v] of Object.entries(s.data ?? {})) values[k] = Buffer.from(v, 'base64').toString('utf8')
    Object.assign(values, s.stringData)
    return { ...s, values }
  })

export const secretSchema = z.discriminatedUnion('type', [tlsSecret, opaqueSecret])
export type Secret = z.output<typeof secretSchema>
