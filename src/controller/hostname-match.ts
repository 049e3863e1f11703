/** `*.example.com` matches `a.example.com` and `a.b.example.com`, not `example.com`; otherwise exact, case-insensitive. */
export function hostnameMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase()
  const h = host.toLowerCase()
  if (p.startsWith('*.')) return h.endsWith(p.slice(1)) && h.length > p.length - 1
  return p === h
}

/** Whether a listener hostname and a route hostname can both match some request host (Gateway API intersection). */
export function hostnamesIntersect(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return true
  return hostnameMatches(a, b.replace(/^\*\./, 'x.')) || hostnameMatches(b, a.replace(/^\*\./, 'x.')) || a.toLowerCase() === b.toLowerCase()
}
