import { z } from 'zod'
import { labelMap, objectMeta } from './object-meta.js'
import { celExpression, checkPolicyForm, policyTargetRef, whenPredicates } from './policy-common.js'

/** Authorino's ValueOrSelector: a static value, or a CEL expression over the authorization JSON. */
const valueOrExpression = z
  .strictObject({ value: z.union([z.string(), z.number(), z.boolean()]).optional(), expression: celExpression.optional() })
  .refine((v) => (v.value === undefined) !== (v.expression === undefined), 'set exactly one of value or expression')
export type ValueOrExpression = z.output<typeof valueOrExpression>

const credentials = z
  .strictObject({
    authorizationHeader: z.strictObject({ prefix: z.string().max(64).default('Bearer') }).optional(),
    customHeader: z.strictObject({ name: z.string().min(1).max(256), prefix: z.string().max(64).optional() }).optional(),
    queryString: z.strictObject({ name: z.string().min(1).max(256) }).optional(),
  })
  .refine((c) => Object.values(c).filter((v) => v !== undefined).length <= 1, 'set at most one credentials source')
export type Credentials = z.output<typeof credentials>

const ruleCommon = {
  when: whenPredicates.optional(),
  /** Rules of the same priority are tried together; lower priorities first. */
  priority: z.number().int().min(0).max(100).default(0),
  metrics: z.boolean().optional(),
}

const authentication = z
  .strictObject({
    ...ruleCommon,
    /**
     * `keyStore: {}` — maitred's API-key store (`maitred keys`); `selector` — Kubernetes-style Secrets with an `api_key`
     * entry, selected by labels (as Authorino does).
     */
    apiKey: z
      .strictObject({ keyStore: z.strictObject({}).optional(), selector: z.strictObject({ matchLabels: labelMap }).optional(), allNamespaces: z.boolean().default(false) })
      .refine((a) => (a.keyStore === undefined) !== (a.selector === undefined), 'set exactly one of keyStore or selector')
      .optional(),
    jwt: z
      .strictObject({ issuerUrl: z.url().optional(), jwksUrl: z.url().optional(), ttl: z.number().int().min(0).optional() })
      .refine((j) => (j.issuerUrl === undefined) !== (j.jwksUrl === undefined), 'set exactly one of issuerUrl or jwksUrl')
      .optional(),
    anonymous: z.strictObject({}).optional(),
    credentials: credentials.optional(),
    /** Identity extension: properties added to the resolved identity (`overrides` replace, `defaults` fill in). */
    defaults: z.record(z.string(), valueOrExpression).optional(),
    overrides: z.record(z.string(), valueOrExpression).optional(),
  })
  .refine((a) => [a.apiKey, a.jwt, a.anonymous].filter((m) => m !== undefined).length === 1, 'set exactly one of apiKey, jwt or anonymous')
export type AuthenticationRule = z.output<typeof authentication>

const pattern = z.strictObject({ predicate: celExpression })

const authorization = z.strictObject({
  ...ruleCommon,
  patternMatching: z.strictObject({ patterns: z.array(pattern).min(1).max(32) }),
})
export type AuthorizationRule = z.output<typeof authorization>

const denyWith = z.strictObject({
  code: z.number().int().min(300).max(599).optional(),
  message: valueOrExpression.optional(),
  headers: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name'), valueOrExpression).optional(),
  body: valueOrExpression.optional(),
})
export type DenyWith = z.output<typeof denyWith>

const successFilter = z.strictObject({
  json: z.strictObject({ properties: z.record(z.string(), valueOrExpression) }).optional(),
  plain: valueOrExpression.optional(),
})

const rules = z.strictObject({
  authentication: z.record(z.string().min(1).max(63), authentication).optional(),
  authorization: z.record(z.string().min(1).max(63), authorization).optional(),
  response: z
    .strictObject({
      unauthenticated: denyWith.optional(),
      unauthorized: denyWith.optional(),
      success: z
        .strictObject({
          /** Values handed to the rate limiters: `identity` becomes `auth.identity` in RateLimitPolicy predicates. */
          filters: z.record(z.string(), successFilter).optional(),
          /** Headers added to the upstream request. */
          headers: z.record(z.string(), successFilter).optional(),
        })
        .optional(),
    })
    .optional(),
})
export type AuthRules = z.output<typeof rules>

const commonSpec = z.strictObject({ rules: rules.optional(), when: whenPredicates.optional(), strategy: z.enum(['atomic']).optional() })

/** Kuadrant AuthPolicy (kuadrant.io/v1), evaluated in the gateway (Authorino's role). */
export const authPolicySchema = z
  .strictObject({
    apiVersion: z.literal('kuadrant.io/v1'),
    kind: z.literal('AuthPolicy'),
    metadata: objectMeta,
    spec: z.strictObject({
      targetRef: policyTargetRef,
      rules: rules.optional(),
      when: whenPredicates.optional(),
      defaults: commonSpec.optional(),
      overrides: commonSpec.optional(),
    }),
  })
  .superRefine((p, ctx) => checkPolicyForm(p.spec, 'rules', p.spec.rules !== undefined, ctx))
export type AuthPolicy = z.output<typeof authPolicySchema>
