import { PickerError } from '../endpoint-picker.js'
import { MODEL_REWRITE_HEADERS } from './protocol.js'

export interface PreparedBody {
  /** The parsed body after the rewrite, handed to the picker. */
  readonly body: Record<string, unknown>
  /** The body sent upstream: re-marshalled when `model` was rewritten, the client's own bytes otherwise. */
  readonly bytes: Buffer
  /** `model` as the client sent it. */
  readonly model: string
  /** `model` as the model server will see it. */
  readonly targetModel: string
}

/**
 * Parses an OpenAI-style request body and applies the model-name rewrite header, as GIE's request handler does before
 * scheduling: a body that is not a JSON object, or has no string `model`, is a 400.
 */
export function prepareRequestBody(raw: Buffer, headers: Readonly<Record<string, string>>): PreparedBody {
  let parsed: unknown
  try {
    parsed = JSON.parse(raw.toString('utf8'))
  } catch (error) {
    throw new PickerError(400, `request body is not valid JSON: ${(error as Error).message}`, 'invalid_json')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new PickerError(400, 'request body must be a JSON object', 'invalid_body')
  }
  const body = parsed as Record<string, unknown>
  const model = body.model
  if (typeof model !== 'string' || model === '') {
    throw new PickerError(400, "model not found in request body: the 'model' field is required", 'model_not_found')
  }
  const rewrite = MODEL_REWRITE_HEADERS.map((name) => headers[name]).find((value) => value !== undefined && value !== '')
  if (rewrite === undefined || rewrite === model) return { body, bytes: raw, model, targetModel: model }
  body.model = rewrite
  return { body, bytes: Buffer.from(JSON.stringify(body)), model, targetModel: rewrite }
}
