import { describe, expect, it } from 'vitest'
import { normalizePath } from './normalize-path.js'
import { matchesPathPrefix, replacePrefix } from './path-match.js'

describe('PathPrefix matching (Gateway API: element-wise by /)', () => {
  it.each([
    ['/abc', '/abc', true],
    ['/abc/', '/abc', true],
    ['/abc/def', '/abc', true],
    ['/abcd', '/abc', false],
    ['/abc', '/abc/', true],
    ['/abc/def', '/abc/', true],
    ['/anything', '/', true],
    ['/Abc', '/abc', false],
  ])('%s with prefix %s → %s', (path, prefix, expected) => {
    expect(matchesPathPrefix(path, prefix)).toBe(expected)
  })
})

describe('ReplacePrefixMatch', () => {
  it.each([
    ['/foo/bar', '/foo', '/xyz', '/xyz/bar'],
    ['/foo/bar', '/foo', '', '/bar'],
    ['/foo/bar', '/foo', '/', '/bar'],
    ['/foo', '/foo', '/', '/'],
    ['/foo/', '/foo', '/xyz', '/xyz/'],
    ['/my-first-model/qwen3-0-6b/v1/models', '/my-first-model/qwen3-0-6b', '/', '/v1/models'],
    ['/my-first-model/qwen3-0-6b/v1/chat/completions', '/my-first-model/qwen3-0-6b/v1/chat/completions', '/v1/chat/completions', '/v1/chat/completions'],
  ])('%s, prefix %s, replacement %j → %s', (path, prefix, replacement, expected) => {
    expect(replacePrefix(path, prefix, replacement)).toBe(expected)
  })
})

describe('path normalisation (once, before matching)', () => {
  it.each([
    ['/a//b', '/a/b'],
    ['/a/./b', '/a/b'],
    ['/a/b/../c', '/a/c'],
    ['/../../etc', '/etc'],
    ['/a/b/', '/a/b/'],
    ['/%61bc', '/abc'],
    ['/a%2Fb', '/a%2Fb'],
    ['/a%2fb', '/a%2Fb'],
    ['/', '/'],
  ])('%s → %s', (raw, expected) => {
    expect(normalizePath(raw)).toBe(expected)
  })

  it('refuses paths that are not origin-form or carry broken escapes', () => {
    expect(normalizePath('http://x/y')).toBeUndefined()
    expect(normalizePath('/a%zz')).toBeUndefined()
  })
})
