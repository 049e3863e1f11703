/** Header the decode-side sidecar reads to send the prompt to a prefill server first (llm-d). */
export const PREFILLER_HEADER = 'x-prefiller-host-port'
/** Comma list of encoder servers for multimodal disaggregation (llm-d HEAD). */
export const ENCODERS_HEADER = 'x-encoder-hosts-ports'
