import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

// The layers of README's "Layout": config → controller → runtime → gateway. A lower layer that imports a higher one
// (even through a third file) drags the data path into what should be pure derivation, and a cycle makes load order matter.
const SRC = dirname(fileURLToPath(import.meta.url))

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : []
  })
}

/** Each source file (relative to src/) → the source files it imports, `import type` and dynamic `import()` included. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of sourceFiles(SRC)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
    const local = importedFiles.map((i) => i.fileName).filter((name) => name.startsWith('.'))
    graph.set(relative(SRC, file), local.map((name) => relative(SRC, resolve(dirname(file), name.replace(/\.js$/, '.ts')))))
  }
  return graph
}

/** The import chain from `from` to the first file that `bad` accepts, or undefined. */
function pathTo(graph: Map<string, string[]>, from: string, bad: (file: string) => boolean): string[] | undefined {
  const seen = new Set<string>()
  const walk = (file: string, chain: string[]): string[] | undefined => {
    if (bad(file)) return [...chain, file]
    if (seen.has(file)) return undefined
    seen.add(file)
    for (const next of graph.get(file) ?? []) {
      const found = walk(next, [...chain, file])
      if (found) return found
    }
    return undefined
  }
  return walk(from, [])
}

function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = []
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (file: string): void => {
    state.set(file, 'open')
    stack.push(file)
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next])
      else if (!state.has(next)) visit(next)
    }
    stack.pop()
    state.set(file, 'done')
  }
  for (const file of graph.keys()) if (!state.has(file)) visit(file)
  return found
}

describe('layering', () => {
  const graph = importGraph()
  const inGateway = (file: string) => file.startsWith('gateway/')

  it('reads the imports it checks', () => {
    expect(graph.get('gateway/client-sink.ts')).toContain('gateway/openai-error.ts')
    expect(pathTo(graph, 'runtime/stack-runtime.ts', inGateway)).toBeDefined()
  })

  it.each(['config', 'controller'])('nothing in src/%s reaches src/gateway, directly or through another file', (layer) => {
    const offending = [...graph.keys()]
      .filter((file) => file.startsWith(`${layer}/`))
      .map((file) => pathTo(graph, file, inGateway))
      .filter((chain) => chain !== undefined)
      .map((chain) => chain.join(' → '))
    expect(offending).toEqual([])
  })

  it('no source file imports itself through others', () => {
    expect(cycles(graph).map((cycle) => cycle.join(' → '))).toEqual([])
  })
})
