import { z } from 'zod'
import { BAD_FIELD_VALUE, TOKEN } from './http-field-syntax.js'
import { gatewayDuration, objectMeta, resourceName } from './object-meta.js'

const pathValue = z
  .string()
  .max(1024)
  .refine((v) => v.startsWith('/'), 'must start with /')
  .refine((v) => !/\/\/|\/\.\/|\/\.\.\/|%2f|#/i.test(v), 'must not contain //, /./, /../, %2F or #')

const pathMatch = z.strictObject({
  type: z.enum(['Exact', 'PathPrefix', 'RegularExpression']).default('PathPrefix'),
  value: z.string().max(1024).default('/'),
})

/** Gateway API's HTTPHeaderName: RFC 7230 token characters, at most 256. */
const headerName = z
  .string()
  .min(1)
  .max(256)
  .regex(TOKEN, 'must be an HTTP header name (letters, digits and !#$%&\'*+-.^_`|~ only)')

/** A header value the gateway sends: no CR, LF or other control characters (they would split or corrupt the header). */
const headerValue = z
  .string()
  .max(4096)
  .refine((v) => !BAD_FIELD_VALUE.test(v), 'must not contain CR, LF or other control characters')

const nameValueMatch = z.strictObject({
  type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
  name: headerName,
  value: z.string().max(4096),
})

export const httpRouteMatch = z.strictObject({
  path: pathMatch.optional(),
  headers: z.array(nameValueMatch).max(16).optional(),
  queryParams: z.array(nameValueMatch).max(16).optional(),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']).optional(),
})
export type HTTPRouteMatch = z.output<typeof httpRouteMatch>

const headerModifier = z.strictObject({
  set: z.array(z.strictObject({ name: headerName, value: headerValue })).max(16).optional(),
  add: z.array(z.strictObject({ name: headerName, value: headerValue })).max(16).optional(),
  remove: z.array(headerName).max(16).optional(),
})

const pathModifier = z.union([
  z.strictObject({ type: z.literal('ReplacePrefixMatch'), replacePrefixMatch: z.string().max(1024) }),
  z.strictObject({ type: z.literal('ReplaceFullPath'), replaceFullPath: z.string().max(1024) }),
])

export const httpRouteFilter = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('RequestHeaderModifier'), requestHeaderModifier: headerModifier }),
  z.strictObject({ type: z.literal('ResponseHeaderModifier'), responseHeaderModifier: headerModifier }),
  z.strictObject({
    type: z.literal('URLRewrite'),
    urlRewrite: z.strictObject({ hostname: z.string().optional(), path: pathModifier.optional() }),
  }),
  z.strictObject({
    type: z.literal('RequestRedirect'),
    requestRedirect: z.strictObject({
      scheme: z.enum(['http', 'https']).optional(),
      hostname: z.string().optional(),
      path: pathModifier.optional(),
      port: z.number().int().min(1).max(65535).optional(),
      statusCode: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)]).default(302),
    }),
  }),
])
export type HTTPRouteFilter = z.output<typeof httpRouteFilter>

export const backendRef = z.strictObject({
  group: z.string().default(''),
  kind: z.string().default('Service'),
  name: resourceName,
  namespace: resourceName.optional(),
  port: z.number().int().min(1).max(65535).optional(),
  weight: z.number().int().min(0).max(1_000_000).default(1),
  filters: z.array(httpRouteFilter).optional(),
})
export type BackendRef = z.output<typeof backendRef>

const rule = z.strictObject({
  name: z.string().optional(),
  matches: z.array(httpRouteMatch).max(64).default([{ path: { type: 'PathPrefix', value: '/' } }]),
  filters: z.array(httpRouteFilter).max(16).optional(),
  backendRefs: z.array(backendRef).max(16).optional(),
  timeouts: z.strictObject({ request: gatewayDuration.optional(), backendRequest: gatewayDuration.optional() }).optional(),
  /** Gateway API (experimental) HTTPRouteRetry: `attempts` retries on `codes`, never after the first response byte. */
  retry: z
    .strictObject({
      codes: z.array(z.number().int().min(400).max(599)).optional(),
      attempts: z.number().int().min(0).optional(),
      backoff: gatewayDuration.optional(),
    })
    .optional(),
})
export type HTTPRouteRule = z.output<typeof rule>

export const parentRef = z.strictObject({
  group: z.string().default('gateway.networking.k8s.io'),
  kind: z.string().default('Gateway'),
  name: resourceName,
  namespace: resourceName.optional(),
  sectionName: z.string().optional(),
  port: z.number().int().min(1).max(65535).optional(),
})

export const httpRouteSchema = z
  .strictObject({
    apiVersion: z.literal('gateway.networking.k8s.io/v1'),
    kind: z.literal('HTTPRoute'),
    metadata: objectMeta,
    spec: z.strictObject({
      parentRefs: z.array(parentRef).max(32).default([]),
      hostnames: z.array(z.string()).max(16).optional(),
      rules: z.array(rule).max(16).default([{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }]),
    }),
  })
  .superRefine((route, ctx) => {
    route.spec.rules.forEach((r, ri) => {
      r.matches.forEach((m, mi) => {
        if (m.path && m.path.type !== 'RegularExpression') {
          const checked = pathValue.safeParse(m.path.value)
          for (const issue of checked.error?.issues ?? [])
            ctx.addIssue({ code: 'custom', path: ['spec', 'rules', ri, 'matches', mi, 'path', 'value'], message: issue.message })
        }
      })
      const prefixRewrite = r.filters?.some((f) => f.type === 'URLRewrite' && f.urlRewrite.path?.type === 'ReplacePrefixMatch')
      if (prefixRewrite && !(r.matches.length === 1 && (r.matches[0]?.path?.type ?? 'PathPrefix') === 'PathPrefix'))
        ctx.addIssue({
          code: 'custom',
          path: ['spec', 'rules', ri, 'filters'],
          message: 'ReplacePrefixMatch needs exactly one PathPrefix match in the rule',
        })
      if (r.filters?.some((f) => f.type === 'RequestRedirect') && r.backendRefs?.length)
        ctx.addIssue({ code: 'custom', path: ['spec', 'rules', ri, 'backendRefs'], message: 'RequestRedirect cannot be used with backendRefs' })
    })
  })
export type HTTPRoute = z.output<typeof httpRouteSchema>
