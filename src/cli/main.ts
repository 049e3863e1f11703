import { Command } from 'commander'
import { registerApplyCommand } from './apply.js'
import { registerExplainCommand } from './explain.js'
import { registerGetCommand } from './get.js'
import { registerKeysCommand } from './keys.js'
import { registerPickerCommand } from './picker.js'
import { registerSimCommand } from './sim.js'
import { registerUpCommand } from './up.js'
import { registerValidateCommand } from './validate.js'

const program = new Command()
  .name('maitred')
  .description('LLM inference serving on a laptop: Gateway API routing, an llm-d endpoint picker and vLLM-faithful simulated GPUs')
  .showHelpAfterError()

registerUpCommand(program)
registerValidateCommand(program)
registerApplyCommand(program)
registerGetCommand(program)
registerExplainCommand(program)
registerKeysCommand(program)
registerSimCommand(program)
registerPickerCommand(program, {
  createPicker: async (config, endpoints, { registry, poolName, objectives }) => {
    const { createInProcessPicker } = await import('../picker/in-process-picker.js')
    const picker = createInProcessPicker({ config, poolName, registry, ...(objectives ? { objectives } : {}) })
    picker.setEndpoints(endpoints)
    return picker
  },
})

try {
  await program.parseAsync(process.argv)
} catch (err) {
  process.stderr.write(`maitred: ${(err as Error).message}\n`)
  process.exit(1)
}
