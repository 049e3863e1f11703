import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { registerUpCommand } from './up.js'

describe('maitred up', () => {
  it('refuses a rate-limit mode it does not know before starting anything, naming the choices', async () => {
    for (const [flag, choices] of [
      ['--ratelimit-headers', 'none, draft-03'],
      ['--ratelimit-failure-mode', 'fail-closed, fail-open'],
    ]) {
      const errors: string[] = []
      const root = new Command().exitOverride().configureOutput({ writeErr: (text) => errors.push(text), writeOut: () => {} })
      registerUpCommand(root)
      root.commands.forEach((command) => command.exitOverride())
      await expect(root.parseAsync(['up', flag!, 'sometimes'], { from: 'user' })).rejects.toMatchObject({ code: 'commander.invalidArgument' })
      expect(errors.join('')).toContain(`Allowed choices are ${choices}.`)
    }
  })
})
