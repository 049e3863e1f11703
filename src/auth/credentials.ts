import type { Credentials } from '../config/authpolicy-schema.js'
import type { AdmissionRequest } from '../gateway/admission.js'

/** Where a rule reads its credential from (Authorino's default: `Authorization: Bearer …`). */
export interface CredentialSource {
  header?: { name: string; prefix: string }
  query?: string
}

export function credentialSource(c: Credentials | undefined): CredentialSource {
  if (c?.customHeader) return { header: { name: c.customHeader.name.toLowerCase(), prefix: c.customHeader.prefix ?? '' } }
  if (c?.queryString) return { query: c.queryString.name }
  return { header: { name: 'authorization', prefix: c?.authorizationHeader?.prefix ?? 'Bearer' } }
}

/** The credential in the request, or undefined (absent, or a header without the expected prefix). */
export function readCredential(source: CredentialSource, request: AdmissionRequest, query: URLSearchParams | undefined): string | undefined {
  if (source.query !== undefined) return query?.get(source.query) ?? undefined
  const h = source.header!
  const raw = request.headers[h.name]
  const value = Array.isArray(raw) ? raw[0] : raw
  if (value === undefined) return undefined
  if (h.prefix === '') return value.trim() || undefined
  // The scheme is case-insensitive (RFC 9110 §11.1).
  if (value.length <= h.prefix.length + 1 || value.slice(0, h.prefix.length).toLowerCase() !== h.prefix.toLowerCase() || value[h.prefix.length] !== ' ') return undefined
  return value.slice(h.prefix.length + 1).trim() || undefined
}
