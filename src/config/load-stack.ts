import { readFile } from 'node:fs/promises'
import { LineCounter, parse as parseYaml, parseAllDocuments, type Document } from 'yaml'
import { loadEndpointPickerConfig } from '../picker/framework/config-loader.js'
import { expandConfigPaths } from './config-paths.js'
import { ConfigLoadError, formatPath, type ConfigError } from './config-error.js'
import type { LLMInferenceService } from './llminferenceservice-schema.js'
import { objectMeta } from './object-meta.js'
import { KNOWN_KINDS, RESOURCE_SCHEMAS, resourceId, UNNAMED_PICKER_CONFIG, type Resource } from './resource.js'

/** Loads every resource from files or directories; throws ConfigLoadError listing every problem. */
export async function loadStackFiles(paths: readonly string[]): Promise<Resource[]> {
  const resources: Resource[] = []
  const errors: ConfigError[] = []
  for (const file of await expandConfigPaths(paths)) {
    const parsed = parseStackText(await readFile(file, 'utf8'), file)
    resources.push(...parsed.resources)
    errors.push(...parsed.errors)
  }
  errors.push(...checkDuplicates(resources))
  if (errors.length > 0) throw new ConfigLoadError(errors)
  return resources
}

/** Parses a multi-document YAML text; never throws, returns what was valid and one error per problem. */
export function parseStackText(text: string, file: string): { resources: Resource[]; errors: ConfigError[] } {
  const lineCounter = new LineCounter()
  const docs = parseAllDocuments(text, { lineCounter })
  const resources: Resource[] = []
  const errors: ConfigError[] = []
  const docList = Array.isArray(docs) ? docs : [docs]
  docList.forEach((doc, index) => {
    const lineOf = (offset: number | undefined) => (offset === undefined ? undefined : lineCounter.linePos(offset).line)
    if (doc.errors.length > 0) {
      for (const e of doc.errors)
        errors.push({ file, line: lineOf(e.pos[0]), resource: `document ${index + 1}`, path: '', message: e.message })
      return
    }
    const value: unknown = doc.toJS()
    if (value === null || value === undefined) return // empty document, e.g. a trailing `---`
    const result = validateDocument(value, index)
    if (result.resource) resources.push(result.resource)
    for (const issue of result.issues)
      errors.push({ file, line: lineOf(nodeOffset(doc, issue.path)), resource: result.id, path: formatPath(issue.path), message: issue.message })
  })
  return { resources, errors }
}

interface Issue {
  path: PropertyKey[]
  message: string
}

function validateDocument(value: unknown, index: number): { resource?: Resource; id: string; issues: Issue[] } {
  if (typeof value !== 'object' || Array.isArray(value) || value === null)
    return { id: `document ${index + 1}`, issues: [{ path: [], message: 'a resource must be a mapping with apiVersion, kind, metadata and spec' }] }
  const obj = value as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } }
  const kind = typeof obj.kind === 'string' ? obj.kind : undefined
  const name = typeof obj.metadata?.name === 'string' ? obj.metadata.name : '?'
  const namespace = typeof obj.metadata?.namespace === 'string' ? obj.metadata.namespace : 'default'
  const id = !kind ? `document ${index + 1}` : kind === 'EndpointPickerConfig' && obj.metadata === undefined ? UNNAMED_PICKER_CONFIG : `${kind}/${namespace}/${name}`
  if (!kind || !(KNOWN_KINDS as readonly string[]).includes(kind))
    return { id, issues: [{ path: ['kind'], message: `unknown kind ${JSON.stringify(obj.kind)}; known kinds: ${KNOWN_KINDS.join(', ')}` }] }
  if (kind === 'EndpointPickerConfig') return { id, ...validatePickerConfig(value as Record<string, unknown>) }
  const parsed = RESOURCE_SCHEMAS[kind as keyof typeof RESOURCE_SCHEMAS].safeParse(value)
  if (!parsed.success) return { id, issues: parsed.error.issues.flatMap(toIssues) }
  const resource = parsed.data as Resource
  const issues = resource.kind === 'LLMInferenceService' ? inlinePickerConfigIssues(resource) : []
  return issues.length > 0 ? { id, issues } : { id, resource, issues }
}

/** An LLMInferenceService's inline EndpointPickerConfig is checked at load like a standalone one. */
function inlinePickerConfigIssues(isvc: LLMInferenceService): Issue[] {
  const inline = isvc.spec.router?.scheduler?.config?.inline
  if (inline === undefined) return []
  const at = ['spec', 'router', 'scheduler', 'config', 'inline']
  let doc: unknown = inline
  if (typeof inline === 'string') {
    try {
      doc = parseYaml(inline)
    } catch (err) {
      return [{ path: at, message: `not valid YAML: ${(err as Error).message}` }]
    }
  }
  return loadEndpointPickerConfig(doc).errors.map((e) => ({ path: [...at, ...splitPath(e.path)], message: e.message }))
}

/**
 * The picker's own check of the whole document (the one `maitred picker --config-file` runs, so `validate` reports the
 * same problems for the same file), then `metadata` as every kind's when there is one: a config without it is valid.
 */
function validatePickerConfig(value: Record<string, unknown>): { resource?: Resource; issues: Issue[] } {
  const issues: Issue[] = loadEndpointPickerConfig(value).errors.map((e) => ({ path: splitPath(e.path), message: e.message }))
  const { metadata: declared, ...config } = value
  const metadata = declared === undefined ? undefined : objectMeta.safeParse(declared)
  if (metadata && !metadata.success) issues.push(...metadata.error.issues.flatMap(toIssues).map((i) => ({ ...i, path: ['metadata', ...i.path] })))
  if (issues.length > 0) return { issues }
  return { resource: { kind: 'EndpointPickerConfig', ...(metadata ? { metadata: metadata.data } : {}), config }, issues: [] }
}

/** zod reports unknown keys on the parent object; give each its own error at its own path. */
function toIssues(issue: { code: string; path: PropertyKey[]; message: string; keys?: string[] }): Issue[] {
  if (issue.code === 'unrecognized_keys' && issue.keys)
    return issue.keys.map((k) => ({ path: [...issue.path, k], message: 'unknown field' }))
  return [{ path: issue.path, message: issue.message }]
}

function splitPath(path: string): PropertyKey[] {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!))
}

/** The source offset of the deepest existing node on the path (for line numbers in errors). */
function nodeOffset(doc: Document, path: PropertyKey[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as (string | number)[], true) as { range?: [number, number, number] } | undefined
    if (node?.range) return node.range[0]
  }
  return undefined
}

/** Each `Kind/namespace/name` may be declared once across all files. */
export function checkDuplicates(resources: readonly Resource[]): ConfigError[] {
  const seen = new Set<string>()
  const errors: ConfigError[] = []
  for (const r of resources) {
    const id = resourceId(r)
    if (seen.has(id))
      errors.push({
        file: '(stack)',
        resource: id,
        path: 'metadata.name',
        message: id === UNNAMED_PICKER_CONFIG ? 'more than one EndpointPickerConfig has no metadata: name each, and name one in each InferencePool\'s endpointPickerRef.name' : 'declared more than once',
      })
    seen.add(id)
  }
  return errors
}
