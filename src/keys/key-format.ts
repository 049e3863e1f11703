import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * MaaS's API-key format (maas-api `internal/api_keys/keygen.go`): `sk-oai-{key_id}_{secret}`. The key_id is stored in clear
 * and salts the stored hash; only SHA-256(key_id + "\x00" + secret) is kept. Both parts are base62 strings drawn
 * uniformly, as long as it takes to carry 12 bytes (96 bits → 17 characters) and 32 bytes (256 bits → 43 characters):
 * uniform digits rather than an encoded big number, so the 12 characters of the display prefix are all random.
 */
export const KEY_PREFIX = 'sk-oai-'
const ID_CHARS = 17
const SECRET_CHARS = 43
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const KEY_PATTERN = new RegExp(`^${KEY_PREFIX}([0-9A-Za-z]{${ID_CHARS}})_([0-9A-Za-z]{${SECRET_CHARS}})$`)

export interface ParsedKey {
  id: string
  secret: string
}

export interface GeneratedKey extends ParsedKey {
  key: string
  /** Hex SHA-256 of id, NUL, secret: what the store keeps. */
  hash: string
}

/** Uniform base62: bytes ≥ 248 (= 4 × 62) are dropped so that `% 62` has no bias. */
function randomBase62(length: number): string {
  let out = ''
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62]
    }
  }
  return out
}

export function generateApiKey(): GeneratedKey {
  const id = randomBase62(ID_CHARS)
  const secret = randomBase62(SECRET_CHARS)
  return { id, secret, key: `${KEY_PREFIX}${id}_${secret}`, hash: hashSecret(id, secret).toString('hex') }
}

/** The key's parts, or undefined for anything not shaped like one of our keys (such input never reaches the store). */
export function parseApiKey(key: string): ParsedKey | undefined {
  const m = KEY_PATTERN.exec(key)
  return m ? { id: m[1]!, secret: m[2]! } : undefined
}

/** One-shot crypto.hash: 40 % less CPU than createHash().update().digest() on the gateway's hot path. */
export function hashSecret(id: string, secret: string): Buffer {
  return hash('sha256', `${id}\x00${secret}`, 'buffer')
}

/** What humans see in place of the key: `sk-oai-` + the first 12 characters of its id + `...`. */
export function displayPrefix(id: string): string {
  return `${KEY_PREFIX}${id.slice(0, 12)}...`
}

/** An id, a display prefix or a whole key, reduced to (the start of) an id; undefined when it cannot be one. */
export function idFragment(idOrPrefix: string): string | undefined {
  const whole = parseApiKey(idOrPrefix)
  if (whole) return whole.id
  const bare = idOrPrefix.replace(/^sk-oai-/, '').replace(/\.{3}$/, '')
  return /^[0-9A-Za-z]{1,17}$/.test(bare) ? bare : undefined
}

/** Constant-time equality of two hashes (their length is public). */
export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Constant-time equality of two secrets of any length: compared as SHA-256 digests so that not even the length leaks. */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())
}
