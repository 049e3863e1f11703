import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { displayPrefix, generateApiKey, hashSecret, idFragment, parseApiKey, sameHash, sameSecret } from './key-format.js'

describe('API key format (MaaS)', () => {
  it('generates sk-oai-ID_SECRET: a 17-character id (96 bits) and a 43-character secret (256 bits), base62, all different', () => {
    const keys = Array.from({ length: 200 }, () => generateApiKey())
    for (const k of keys) {
      expect(k.key).toMatch(/^sk-oai-[0-9A-Za-z]{17}_[0-9A-Za-z]{43}$/)
      expect(k.key).toBe(`sk-oai-${k.id}_${k.secret}`)
    }
    expect(new Set(keys.map((k) => k.id)).size).toBe(200)
    expect(new Set(keys.map((k) => k.secret)).size).toBe(200)
    // Every position draws from the whole alphabet, the first ones included (the display prefix must not start with a constant).
    const firstChars = new Set(keys.map((k) => k.id[0]))
    expect(firstChars.size).toBeGreaterThan(40)
  })

  it('stores SHA-256(id + NUL + secret) in hex', () => {
    const k = generateApiKey()
    expect(k.hash).toBe(createHash('sha256').update(`${k.id}\x00${k.secret}`).digest('hex'))
    expect(hashSecret(k.id, k.secret).toString('hex')).toBe(k.hash)
    // The id salts the hash: the same secret under another id hashes differently.
    expect(hashSecret(generateApiKey().id, k.secret).toString('hex')).not.toBe(k.hash)
  })

  it('parses a key into id and secret, and rejects anything else', () => {
    const k = generateApiKey()
    expect(parseApiKey(k.key)).toEqual({ id: k.id, secret: k.secret })
    for (const bad of ['', k.id, `sk-${k.id}_${k.secret}`, `${k.key} `, ` ${k.key}`, `${k.key}0`, k.key.slice(0, -1), k.key.replace('_', '-'), `sk-oai-${k.id}_${k.secret.slice(1)}!`, `Bearer ${k.key}`])
      expect(parseApiKey(bad)).toBeUndefined()
  })

  it('shows sk-oai- and the first 12 characters of the id', () => {
    const k = generateApiKey()
    expect(displayPrefix(k.id)).toBe(`sk-oai-${k.id.slice(0, 12)}...`)
  })

  it('reduces an id, a display prefix or a whole key to an id fragment, never keeping the secret', () => {
    const k = generateApiKey()
    expect(idFragment(k.key)).toBe(k.id)
    expect(idFragment(displayPrefix(k.id))).toBe(k.id.slice(0, 12))
    expect(idFragment(k.id)).toBe(k.id)
    expect(idFragment('a b')).toBeUndefined()
    expect(idFragment('%')).toBeUndefined()
  })

  it('compares hashes and secrets in constant time, whatever their lengths', () => {
    const a = hashSecret('a', 'b')
    expect(sameHash(a, Buffer.from(a))).toBe(true)
    expect(sameHash(a, hashSecret('a', 'c'))).toBe(false)
    expect(sameHash(a, a.subarray(1))).toBe(false)
    expect(sameSecret('token', 'token')).toBe(true)
    expect(sameSecret('token', 'token2')).toBe(false)
    expect(sameSecret('', 'x')).toBe(false)
  })
})
