import { Command } from 'commander'
import { registerApplyCommand } from './apply.js'
import { registerBenchCommand } from './bench.js'
import { createPicker } from './create-picker.js'
import { registerDoctorCommand } from './doctor.js'
import { registerExplainCommand } from './explain.js'
import { registerGetCommand } from './get.js'
import { registerLogsCommand } from './logs.js'
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
registerDoctorCommand(program)
registerLogsCommand(program)
registerKeysCommand(program)
registerSimCommand(program)
registerBenchCommand(program)
registerPickerCommand(program, { createPicker })

try {
  await program.parseAsync(process.argv)
} catch (err) {
  process.stderr.write(`maitred: ${(err as Error).message}\n`)
  process.exit(1)
}
