import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { commandHelp, fencedBlocks, isRunnable, listedCommands, maitredCommands, validateYamlBlock, type FencedBlock } from './doc-blocks.js'

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
    // The top-level --help lists every command. A command named with a second word is asked for its own list, which
    // only a command with subcommands has (`keys create`; in `get routes` the word is an argument). Each --help is a
    // Node process loading the CLI, so they are few and run at once.
    const top = listedCommands(await commandHelp([], bin))
    const nested = [...new Set(commands.filter((c) => c.words[1] && top.has(c.words[0]!)).map((c) => c.words[0]!))]
    const lists = await Promise.all(nested.map(async (n) => [n, listedCommands(await commandHelp([n], bin))] as const))
    const subcommands = new Map(lists.filter(([, list]) => list.size > 0))
    const exists = ([first, second]: readonly string[]) =>
      first !== undefined && top.has(first) && (second === undefined || !subcommands.has(first) || subcommands.get(first)!.has(second))
    const problems = commands
      .filter((c) => !exists(c.words))
      .map((c) => `${c.file}:${c.line}: maitred ${c.words.join(' ') || '(no subcommand)'}: no such command (maitred --help does not list it)`)
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
    'maitred --help; maitred -f x.yaml',
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

  it('finds the maitred commands of a shell block, not those in comments nor a bare --help', () => {
    expect(maitredCommands(blocks[2]!)).toEqual([
      { line: 20, words: ['get', 'routes'] },
      { line: 21, words: ['nothere'] },
      { line: 23, words: [] },
    ])
  })

  it('reads the commands a --help lists, and their usage', async () => {
    const top = listedCommands(await commandHelp([], bin))
    expect(top.get('get')).toBe('[options] <kind>')
    expect(top.has('validate')).toBe(true)
    expect(top.has('nothere')).toBe(false)
    expect(listedCommands(await commandHelp(['get'], bin)).size).toBe(0)
    const nested = 'Usage: maitred keys [options] [command]\n\nCommands:\n  create [options]  make a key that is\n                    described at length\n  help [command]\n'
    expect([...listedCommands(nested)]).toEqual([
      ['create', '[options]'],
      ['help', '[command]'],
    ])
  }, 30_000)
})
