/**
 * A model-server endpoint as the picker and the gateway see it: one pod's `host:port` with its labels.
 * The runtime creates these from ModelServer resources (simulated or external) selected by a pool's labels.
 */
export interface EndpointRef {
  /** Stable identity, `namespace/name` of the ModelServer (plus `:port` when a pool has several target ports). */
  readonly id: string
  readonly name: string
  readonly namespace: string
  /** `host:port`, what `x-gateway-destination-endpoint` carries. */
  readonly address: string
  /** Base URL the proxy and the scraper use, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly url: string
  readonly labels: Readonly<Record<string, string>>
  /** How to reach an `https://` endpoint (DestinationRule-like); absent means the system's trust store. */
  readonly tls?: UpstreamTls
  /** Where the engine publishes its KV events, when known (a simulator reports it; an external server may declare it). */
  readonly kvEvents?: KvEventsAddress
  /** The served model's context length (vLLM's `max_model_len`), when known: a simulator's option, or declared. */
  readonly maxModelLen?: number
}

/** ZMQ endpoints of an engine's KV events: the PUB socket, and the ROUTER replaying buffered batches. */
export interface KvEventsAddress {
  readonly endpoint: string
  readonly replayEndpoint?: string
}

export interface UpstreamTls {
  /** PEM bundle trusted for this endpoint (e.g. the service CA that signed vLLM's certificate). */
  readonly ca?: string
  /** SNI and the name verified in the certificate, when it differs from the URL's host. */
  readonly serverName?: string
  readonly insecureSkipVerify?: boolean
}

/** Metrics scraped from an endpoint's `/metrics`, mapped to canonical names (vLLM, SGLang, TRT-LLM → these). */
export interface EndpointMetrics {
  waitingQueueSize: number
  runningRequestsSize: number
  /** Fraction in [0,1]. */
  kvCacheUsagePercent: number
  /** From `vllm:cache_config_info` when exposed. */
  blockSize?: number
  numGpuBlocks?: number
  /** LoRA adapters from `vllm:lora_requests_info`. */
  activeModels?: string[]
  waitingModels?: string[]
  maxActiveModels?: number
  /** Wall-clock ms of the last successful scrape. */
  updatedAt: number
}

export interface EndpointState {
  readonly endpoint: EndpointRef
  /** Undefined until the first successful scrape. */
  readonly metrics: EndpointMetrics | undefined
  readonly healthy: boolean
  readonly lastError?: string
}
