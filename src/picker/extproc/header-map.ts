import type { HeaderMap, HeaderValueOption } from './ext-proc-messages.js'

/**
 * An Envoy HeaderMap as a plain record with lower-case keys. Envoy ≥ 1.27 sends values in `raw_value` (bytes) and leaves
 * `value` empty; older Envoys fill `value`. Repeated headers are joined with `,` as HTTP allows.
 */
export function headerMapToRecord(map: HeaderMap | null | undefined): Record<string, string> {
  const record: Record<string, string> = {}
  for (const header of map?.headers ?? []) {
    const key = header.key.toLowerCase()
    const value = header.raw_value && header.raw_value.length > 0 ? Buffer.from(header.raw_value).toString('utf8') : (header.value ?? '')
    record[key] = record[key] === undefined ? value : `${record[key]},${value}`
  }
  return record
}

export function recordToHeaderMap(record: Readonly<Record<string, string>>): HeaderMap {
  return { headers: Object.entries(record).map(([key, value]) => ({ key, raw_value: Buffer.from(value) })) }
}

/** A header mutation entry that replaces any existing value (what GIE means by SetHeaders). */
export function setHeader(key: string, value: string): HeaderValueOption {
  return { header: { key, raw_value: Buffer.from(value) }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }
}

export function headerOptionsToRecord(options: readonly HeaderValueOption[] | null | undefined): Record<string, string> {
  return headerMapToRecord({ headers: (options ?? []).map((option) => option.header) })
}
