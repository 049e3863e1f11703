import { BODY_BYTE_LIMIT } from './protocol.js'

/** Splits a body into pieces of at most `limit` bytes (views, no copies); an empty body is one empty piece. */
export function splitBody(body: Buffer, limit: number = BODY_BYTE_LIMIT): Buffer[] {
  if (limit <= 0) throw new RangeError('chunk limit must be positive')
  if (body.length === 0) return [body]
  const chunks: Buffer[] = []
  for (let offset = 0; offset < body.length; offset += limit) chunks.push(body.subarray(offset, offset + limit))
  return chunks
}
