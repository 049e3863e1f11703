import type { PickerCommandDeps } from './picker.js'

/** `maitred picker`'s picker: the in-process one (its config checked by the same loader `maitred validate` runs). */
export const createPicker: PickerCommandDeps['createPicker'] = async (config, endpoints, { registry, poolName, objectives }) => {
  const { createInProcessPicker } = await import('../picker/in-process-picker.js')
  const picker = createInProcessPicker({ config, poolName, registry, ...(objectives ? { objectives } : {}) })
  picker.setEndpoints(endpoints)
  return picker
}
