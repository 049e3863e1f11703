import type { Readable } from 'node:stream'
import { GatewayError } from './openai-error.js'

/**
 * Reads the whole request body (the picker needs it), refusing more than `limitBytes` with 413 — past the limit reading
 * pauses (nothing more is buffered) but the request is not destroyed: that would take the connection (HTTP/1.1) or stream
 * (HTTP/2) down before the 413 is written. The 413 then ends the exchange (see sendOpenAIError): HTTP/1.1 reads and drops
 * what the client still sends while its connection closes (lingerOnClose), HTTP/2 resets the stream. Plain events rather
 * than `for await`: this runs per request.
 */
export function readRequestBody(req: Readable & { headers: Record<string, string | string[] | undefined> }, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > limitBytes) return Promise.reject(new GatewayError(413, `request body of ${declared} bytes exceeds the limit of ${limitBytes} bytes`, 'request_too_large'))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    // Listeners stay attached once settled: past the limit the stream is paused, otherwise it has ended or failed.
    req.on('data', (chunk: Buffer) => {
      if (settled) return
      size += chunk.length
      if (size <= limitBytes) return void chunks.push(chunk)
      settled = true
      req.pause()
      reject(new GatewayError(413, `request body exceeds the limit of ${limitBytes} bytes`, 'request_too_large'))
    })
    req.on('end', () => {
      if (settled) return
      settled = true
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
    })
    req.on('error', (err: Error) => {
      if (settled) return
      settled = true
      reject(err)
    })
    req.on('close', () => {
      if (settled) return
      settled = true
      reject(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }))
    })
  })
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
