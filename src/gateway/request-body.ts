import { GatewayError } from './openai-error.js'

/** Reads the whole request body (the picker needs it), refusing more than `limitBytes` with 413. */
export async function readRequestBody(req: AsyncIterable<Buffer> & { headers: Record<string, string | string[] | undefined> }, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > limitBytes) throw new GatewayError(413, `request body of ${declared} bytes exceeds the limit of ${limitBytes} bytes`, 'request_too_large')
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += chunk.length
    if (size > limitBytes) throw new GatewayError(413, `request body exceeds the limit of ${limitBytes} bytes`, 'request_too_large')
    chunks.push(chunk)
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)
}

/** Parses an inference request body: a JSON object, as every OpenAI endpoint the pool serves takes. */
export function parseInferenceBody(body: Buffer): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    throw new GatewayError(400, 'request body is not valid JSON', 'invalid_json')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new GatewayError(400, 'request body must be a JSON object', 'invalid_body')
  return parsed as Record<string, unknown>
}
