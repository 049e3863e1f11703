import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigLoadError, formatConfigError } from '../../src/config/config-error.js'
import { loadStackFiles } from '../../src/config/load-stack.js'
import { deriveStack } from '../../src/controller/derive-stack.js'

/** A fenced code block of a Markdown file: its info string, its text, and the line of its opening fence. */
export interface FencedBlock {
  readonly file: string
  readonly line: number
  readonly info: string
  readonly text: string
}

/** The fenced blocks of a Markdown text, also those indented inside list items (CommonMark: ``` or ~~~, 3+ long). */
export function fencedBlocks(markdown: string, file: string): FencedBlock[] {
  const blocks: FencedBlock[] = []
  const lines = markdown.split('\n')
  let open: { fence: string; indent: number; line: number; info: string; body: string[] } | undefined
  lines.forEach((raw, i) => {
    if (open) {
      const close = raw.match(/^(\s*)(`{3,}|~{3,})\s*$/)
      if (close && close[2]![0] === open.fence[0] && close[2]!.length >= open.fence.length) {
        blocks.push({ file, line: open.line, info: open.info, text: open.body.join('\n') + '\n' })
        open = undefined
      } else open.body.push(raw.slice(Math.min(open.indent, raw.length - raw.trimStart().length)))
      return
    }
    const start = raw.match(/^(\s*)(`{3,}|~{3,})\s*([^`]*)$/)
    if (start) open = { fence: start[2]!, indent: start[1]!.length, line: i + 1, info: start[3]!.trim(), body: [] }
  })
  if (open) blocks.push({ file, line: open.line, info: open.info, text: open.body.join('\n') + '\n' })
  return blocks
}

export const isRunnable = (block: FencedBlock, language: 'yaml' | 'sh') => {
  const [lang, ...flags] = block.info.split(/\s+/)
  return lang === language && flags.includes('runnable')
}

/**
 * What `maitred validate -f` says of a YAML block: nothing when it is a valid stack, else its errors at their Markdown lines. Runs the command's
 * own steps (load every document with its checks, then derive the stack) on the block written to a file of its own.
 */
export async function validateYamlBlock(block: FencedBlock): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'maitred-docs-'))
  const file = join(dir, 'block.yaml')
  try {
    await writeFile(file, block.text)
    deriveStack(await loadStackFiles([file]))
    return []
  } catch (err) {
    if (!(err instanceof ConfigLoadError)) return [`${block.file}:${block.line}: ${(err as Error).message}`]
    // A line in the block is a line of the Markdown file: the block's text starts on the line after its fence.
    return err.errors.map((e) => formatConfigError({ ...e, file: block.file, line: block.line + (e.line ?? 0) }))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** A `maitred …` / `npx maitred …` command of a shell block: the words after `maitred`, up to the first option. */
export interface MaitredCommand {
  readonly line: number
  readonly words: readonly string[]
}

/**
 * The maitred commands of a shell block, with the Markdown line each is on; comments are left out, and so is
 * `maitred --help` alone (the top-level help names no command).
 */
export function maitredCommands(block: FencedBlock): MaitredCommand[] {
  const commands: MaitredCommand[] = []
  block.text.split('\n').forEach((raw, i) => {
    const code = raw.replace(/(^|\s)#.*$/, '')
    for (const m of code.matchAll(/(?:^|[\s;&|(])(?:npx\s+)?maitred((?:\s+[A-Za-z][\w-]*)*)(\s+-[\w-]+)?/g)) {
      const words = m[1]!.trim().split(/\s+/).filter(Boolean).slice(0, 2)
      if (words.length === 0 && /^\s+(--help|-h)$/.test(m[2] ?? '')) continue
      commands.push({ line: block.line + 1 + i, words })
    }
  })
  return commands
}

/** What `maitred ARGS --help` prints, or '' when it fails. */
export function commandHelp(args: readonly string[], bin: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let text = ''
    child.stdout.on('data', (d: Buffer) => (text += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve(code === 0 ? text : ''))
  })
}

/**
 * The commands a commander `--help` lists under "Commands:", each with its usage (`get` → `[options] <kind>`); none for
 * a command without subcommands. Wrapped description lines are indented further.
 */
export function listedCommands(help: string): Map<string, string> {
  const section = help.split(/\nCommands:\n/)[1]?.split(/\n\s*\n/)[0] ?? ''
  const commands = new Map<string, string>()
  for (const line of section.split('\n')) {
    const m = line.match(/^ {2}([a-z][\w-]*)((?: \S+)*)/)
    if (m) commands.set(m[1]!, m[2]!.trim())
  }
  return commands
}
