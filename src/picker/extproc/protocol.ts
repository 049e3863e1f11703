/** Names and limits of the EPP ↔ proxy protocol (GIE `docs/proposals/004-endpoint-picker-protocol`, spec/epp.md §4). */

/** Header and `envoy.lb` metadata key carrying `ip:port[,ip:port…]`: the primary endpoint then the fallbacks, in order. */
export const DESTINATION_ENDPOINT_KEY = 'x-gateway-destination-endpoint'
/** Dynamic-metadata namespace Envoy's ORIGINAL_DST / LB policies read the destination from. */
export const DESTINATION_METADATA_NAMESPACE = 'envoy.lb'
/** Filter metadata the proxy may send to restrict the candidates: `{"envoy.lb.subset_hint": {"x-gateway-destination-endpoint-subset": [...]}}`. */
export const SUBSET_METADATA_NAMESPACE = 'envoy.lb.subset_hint'
export const SUBSET_KEY = 'x-gateway-destination-endpoint-subset'
/** `envoy.lb` metadata the proxy reports on the response path: the endpoint that actually served the request. */
export const SERVED_ENDPOINT_KEY = 'x-gateway-destination-endpoint-served'

/** GIE's `BodyByteLimit`: the largest body chunk sent back in a `streamed_response`. */
export const BODY_BYTE_LIMIT = 62_000

/** Model-name rewrite request headers: GIE v1.x name first, llm-d HEAD name second. */
export const MODEL_REWRITE_HEADERS = ['x-gateway-model-name-rewrite', 'x-llm-d-model-name-rewrite'] as const

/** Response header the EPP adds so operators can see it was in the loop (the seed checks for it). */
export const RESPONSE_MARKER_HEADER = 'x-went-into-resp-headers'
/** llm-d HEAD: why a request was refused, on ImmediateResponses. */
export const DROPPED_REASON_HEADER = 'x-llm-d-request-dropped-reason'

/** Request header asking for the explain table; the compact form comes back in the response header of the same name. */
export const EXPLAIN_HEADER = 'x-maitred-explain'
/** Dynamic-metadata namespace for the parts of a Decision only a maitred gateway reads (profiles, response headers, explain). */
export const DECISION_METADATA_NAMESPACE = 'maitred'
