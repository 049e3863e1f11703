import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { fencedBlocks, hasHelp, isRunnable, maitredCommands, validateYamlBlock, type FencedBlock } from './doc-blocks.js'

// The team's runnable-docs convention: a ```yaml runnable block is a whole stack that `maitred validate -f` accepts, and
// a ```sh runnable block only runs maitred subcommands that exist. Failures name the Markdown file and line.

const root = fileURLToPath(new URL('../../', import.meta.url))
const bin = `${root}bin/maitred.js`

async function docBlocks(): Promise<FencedBlock[]> {
  const docs = (await readdir(`${root}docs`)).filter((n) => n.endsWith('.md')).sort().map((n) => `docs/${n}`)
  const files = ['README.md', ...docs]
  return (await Promise.all(files.map(async (f) => fencedBlocks(await readFile(`${root}${f}`, 'utf8'), f)))).flat()
}

describe('runnable blocks in README.md and docs/', () => {
  it('every ```yaml runnable block passes maitred validate', async () => {
    const blocks = (await docBlocks()).filter((b) => isRunnable(b, 'yaml'))
    expect(blocks.length).toBeGreaterThan(0)
    const problems = (await Promise.all(blocks.map(validateYamlBlock))).flat()
    expect(problems, problems.join('\n')).toEqual([])
  })

  it('every maitred command in a ```sh runnable block names a subcommand with --help', async () => {
    const commands = (await docBlocks())
      .filter((b) => isRunnable(b, 'sh'))
      .flatMap((b) => maitredCommands(b).map((c) => ({ ...c, file: b.file })))
    expect(commands.length).toBeGreaterThan(0)
    // One `--help` per distinct command, two at a time (each is a Node process compiling the CLI).
    const distinct = [...new Set(commands.map((c) => c.words.join(' ')))]
    const known = new Map<string, boolean>()
    for (let i = 0; i < distinct.length; i += 2)
      await Promise.all(distinct.slice(i, i + 2).map(async (w) => known.set(w, await hasHelp(w ? w.split(' ') : [], bin))))
    const problems = commands
      .filter((c) => !known.get(c.words.join(' ')))
      .map((c) => `${c.file}:${c.line}: maitred ${c.words.join(' ') || '(no subcommand)'}: no such command (its --help is missing)`)
    expect(problems, problems.join('\n')).toEqual([])
  }, 60_000)
})

describe('the runnable-block checks', () => {
  const doc = [
    '# t',
    '',
    '- a list item',
    '  ```yaml runnable',
    '  apiVersion: v1',
    '  kind: Namespace',
    '  metadata: {name: ok}',
    '  ```',
    '',
    '```yaml runnable',
    'apiVersion: gateway.networking.k8s.io/v1',
    'kind: Gateway',
    'metadata: {name: gw}',
    'spec:',
    '  listeners:',
    '  - {name: http, protocol: HTTP, port: 8080, colour: red}',
    '```',
    '',
    '```sh runnable',
    'npx maitred get routes   # maitred nothere in a comment',
    'curl -s http://localhost:8080/x && maitred nothere \\',
    '  -f x.yaml',
    '```',
  ].join('\n')
  const blocks = fencedBlocks(doc, 'fixture.md')

  it('finds fenced blocks, indented ones too, at their opening line', () => {
    expect(blocks.map((b) => [b.line, b.info])).toEqual([
      [4, 'yaml runnable'],
      [10, 'yaml runnable'],
      [19, 'sh runnable'],
    ])
    expect(blocks[0]!.text).toBe('apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n')
  })

  it('reports a YAML block that does not validate at its file and line', async () => {
    expect(await validateYamlBlock(blocks[0]!)).toEqual([])
    expect(await validateYamlBlock(blocks[1]!)).toEqual(['fixture.md:16: Gateway/default/gw: spec.listeners[0].colour: unknown field'])
  })

  it('finds the maitred commands of a shell block, not those in comments', async () => {
    expect(maitredCommands(blocks[2]!)).toEqual([
      { line: 20, words: ['get', 'routes'] },
      { line: 21, words: ['nothere'] },
    ])
    expect(await hasHelp(['get', 'routes'], bin)).toBe(true)
    expect(await hasHelp(['nothere'], bin)).toBe(false)
  }, 30_000)
})
