/** A header name (or method) is an RFC 9110 token: nothing else — spaces, colons, control bytes — may appear. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** Field values may hold visible bytes, spaces, tabs and obs-text, never CR, LF, NUL or other control bytes. */
export const BAD_FIELD_VALUE = /[\0-\x08\x0a-\x1f\x7f]/
