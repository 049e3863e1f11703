import type { Struct, StructValue } from './ext-proc-messages.js'

/**
 * JSON ↔ `google.protobuf.Struct`. protobufjs bundles the well-known types with camelCase field names, and keepCase does not
 * apply to them: a Value must be written `structValue` / `stringValue` / `listValue`… — a snake_case `string_value` is
 * silently dropped on encode, which is how an `envoy.lb` metadata entry can vanish without an error.
 */
export function toStruct(object: Readonly<Record<string, unknown>>): Struct {
  const fields: Record<string, StructValue> = {}
  for (const [key, value] of Object.entries(object)) {
    if (value !== undefined) fields[key] = toValue(value)
  }
  return { fields }
}

function toValue(value: unknown): StructValue {
  if (value === null) return { nullValue: 0 }
  if (typeof value === 'string') return { stringValue: value }
  if (typeof value === 'number') return { numberValue: value }
  if (typeof value === 'boolean') return { boolValue: value }
  if (Array.isArray(value)) return { listValue: { values: value.map(toValue) } }
  if (typeof value === 'object') return { structValue: toStruct(value as Record<string, unknown>) }
  throw new TypeError(`cannot encode a ${typeof value} in a google.protobuf.Struct`)
}

export function fromStruct(struct: Struct | null | undefined): Record<string, unknown> {
  const object: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(struct?.fields ?? {})) object[key] = fromValue(value)
  return object
}

function fromValue(value: StructValue): unknown {
  if (value.structValue) return fromStruct(value.structValue)
  if (value.listValue) return (value.listValue.values ?? []).map(fromValue)
  if (value.stringValue !== undefined && value.stringValue !== null) return value.stringValue
  if (value.numberValue !== undefined && value.numberValue !== null) return value.numberValue
  if (value.boolValue !== undefined && value.boolValue !== null) return value.boolValue
  return null
}
