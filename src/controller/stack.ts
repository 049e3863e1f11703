import type { AuthPolicy } from '../config/authpolicy-schema.js'
import type { Gateway } from '../config/gateway-schema.js'
import type { HTTPRoute } from '../config/httproute-schema.js'
import type { InferenceObjective } from '../config/inference-objective-schema.js'
import type { InferencePool } from '../config/inferencepool-schema.js'
import type { LLMInferenceService } from '../config/llminferenceservice-schema.js'
import type { ModelServer } from '../config/model-server-schema.js'
import type { Namespace } from '../config/namespace-schema.js'
import type { Secret } from '../config/secret-schema.js'
import type { RateLimitPolicy } from '../config/ratelimitpolicy-schema.js'
import type { Service } from '../config/service-schema.js'
import type { Tier } from '../config/tier-schema.js'
import type { TokenRateLimitPolicy } from '../config/tokenratelimitpolicy-schema.js'

/** The endpoint picker deployment for one InferencePool (KServe's `<name>-kserve-router-scheduler`). */
export interface PickerDeployment {
  name: string
  namespace: string
  /** The Service the pool's endpointPickerRef names (`<name>-epp-service`). */
  serviceName: string
  poolName: string
  /** EndpointPickerConfig document (without metadata); undefined means the built-in default. */
  config: Record<string, unknown> | undefined
  /** Where the config came from, for `get pools` and the doctor. */
  configSource: string
  /** InferenceObjective name → priority for this pool (the `x-gateway-inference-objective` lookup). */
  objectives?: Record<string, number>
  /** Set when the pool is served by a picker elsewhere (annotation `maitred.dev/endpoint-picker-address`), over ext_proc. */
  remote?: RemotePickerRef
}

/** Where a pool's remote endpoint picker listens, and how to reach it (TLS when any TLS field is set). */
export interface RemotePickerRef {
  address: string
  caFile?: string
  serverName?: string
  insecureSkipVerify?: boolean
}

/** Everything the runtime starts: declared resources plus what the controller derived from them. */
export interface Stack {
  gateways: Gateway[]
  routes: HTTPRoute[]
  pools: InferencePool[]
  pickers: PickerDeployment[]
  services: Service[]
  modelServers: ModelServer[]
  llmInferenceServices: LLMInferenceService[]
  objectives: InferenceObjective[]
  secrets: Secret[]
  namespaces: Namespace[]
  authPolicies: AuthPolicy[]
  rateLimitPolicies: RateLimitPolicy[]
  tokenRateLimitPolicies: TokenRateLimitPolicy[]
  tiers: Tier[]
  /** `Kind/ns/name` of each derived object → `Kind/ns/name` of the resource it came from. */
  ownerOf: Record<string, string>
}
