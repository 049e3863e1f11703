/** Kubernetes matchLabels semantics: every selector label must be present with the same value. */
export function matchesLabels(labels: Readonly<Record<string, string>> | undefined, selector: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false
  return true
}
