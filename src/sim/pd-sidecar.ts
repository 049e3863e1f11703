import { request } from 'undici'
import { OpenAIError } from './openai-error.js'

// llm-d's routing sidecar, as it behaves in front of a decode pod: when the picker names a prefill pod in the
// `x-prefiller-host-port` header, the request is first sent there with kv_transfer_params.do_remote_decode and max tokens 1
// (not streamed); the prefill pod's kv_transfer_params then go with the original request to the local engine, which pulls
// the KV instead of computing the prefill. Without the header the decode pod prefills locally.

export const PREFILLER_HEADER = 'x-prefiller-host-port'

export type KvTransferParams = Record<string, unknown>

export async function prefillRemotely(
  hostPort: string,
  path: string,
  body: Record<string, unknown>,
  signal: AbortSignal,
): Promise<KvTransferParams> {
  const prefillBody: Record<string, unknown> = {
    ...body,
    stream: false,
    n: 1,
    max_tokens: 1,
    kv_transfer_params: {
      do_remote_decode: true,
      do_remote_prefill: false,
      remote_engine_id: null,
      remote_block_ids: null,
      remote_host: null,
      remote_port: null,
    },
  }
  if ('max_completion_tokens' in body) prefillBody.max_completion_tokens = 1
  delete prefillBody.stream_options
  let response
  try {
    response = await request(`http://${hostPort}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(prefillBody),
      signal,
    })
  } catch (err) {
    throw new OpenAIError(502, `Prefill request to ${hostPort} failed: ${(err as Error).message}`)
  }
  const text = await response.body.text()
  let json: { kv_transfer_params?: KvTransferParams; error?: { message?: string } }
  try {
    json = JSON.parse(text) as typeof json
  } catch {
    throw new OpenAIError(502, `Prefill pod ${hostPort} answered ${response.statusCode} with a body that is not JSON`)
  }
  if (response.statusCode !== 200) {
    throw new OpenAIError(response.statusCode, json.error?.message ?? `Prefill pod ${hostPort} answered ${response.statusCode}`)
  }
  if (json.kv_transfer_params == null) throw new OpenAIError(502, `Prefill pod ${hostPort} returned no kv_transfer_params`)
  return json.kv_transfer_params
}
