import type { z } from 'zod'
import type { EndpointPickerConfigResource } from './endpoint-picker-config-schema.js'
import { authPolicySchema, type AuthPolicy } from './authpolicy-schema.js'
import { gatewaySchema, type Gateway } from './gateway-schema.js'
import { httpRouteSchema, type HTTPRoute } from './httproute-schema.js'
import { inferenceObjectiveSchema, type InferenceObjective } from './inference-objective-schema.js'
import { inferencePoolSchema, type InferencePool } from './inferencepool-schema.js'
import { llmInferenceServiceSchema, type LLMInferenceService } from './llminferenceservice-schema.js'
import { modelServerSchema, type ModelServer } from './model-server-schema.js'
import { namespaceSchema, type Namespace } from './namespace-schema.js'
import { secretSchema, type Secret } from './secret-schema.js'
import { rateLimitPolicySchema, type RateLimitPolicy } from './ratelimitpolicy-schema.js'
import { serviceSchema, type Service } from './service-schema.js'
import { tierSchema, type Tier } from './tier-schema.js'
import { tokenRateLimitPolicySchema, type TokenRateLimitPolicy } from './tokenratelimitpolicy-schema.js'

export type Resource =
  | Gateway
  | HTTPRoute
  | InferencePool
  | Service
  | ModelServer
  | LLMInferenceService
  | EndpointPickerConfigResource
  | InferenceObjective
  | Secret
  | Namespace
  | AuthPolicy
  | RateLimitPolicy
  | TokenRateLimitPolicy
  | Tier
export type ResourceKind = Resource['kind']

/** Schema per kind (EndpointPickerConfig is validated by the picker's loader, see load-stack.ts). */
export const RESOURCE_SCHEMAS: Record<Exclude<ResourceKind, 'EndpointPickerConfig'>, z.ZodType> = {
  Gateway: gatewaySchema,
  HTTPRoute: httpRouteSchema,
  InferencePool: inferencePoolSchema,
  Service: serviceSchema,
  ModelServer: modelServerSchema,
  LLMInferenceService: llmInferenceServiceSchema,
  InferenceObjective: inferenceObjectiveSchema,
  Secret: secretSchema,
  Namespace: namespaceSchema,
  AuthPolicy: authPolicySchema,
  RateLimitPolicy: rateLimitPolicySchema,
  TokenRateLimitPolicy: tokenRateLimitPolicySchema,
  Tier: tierSchema,
}

export const KNOWN_KINDS: readonly ResourceKind[] = [...Object.keys(RESOURCE_SCHEMAS), 'EndpointPickerConfig'] as ResourceKind[]

/** How errors and the duplicate check name an EndpointPickerConfig without metadata (llm-d's and GIE's own files). */
export const UNNAMED_PICKER_CONFIG = 'EndpointPickerConfig/(unnamed)'

export function resourceId(r: { kind: string; metadata?: { name: string; namespace?: string } }): string {
  if (!r.metadata) return UNNAMED_PICKER_CONFIG
  return `${r.kind}/${r.metadata.namespace ?? 'default'}/${r.metadata.name}`
}

export function ofKind<K extends ResourceKind>(resources: readonly Resource[], kind: K): Extract<Resource, { kind: K }>[] {
  return resources.filter((r): r is Extract<Resource, { kind: K }> => r.kind === kind)
}
