import { describe, expect, it } from 'vitest'
import { PickerError } from '../../endpoint-picker.js'
import { schedulerFor } from '../../framework/testdata/scheduler-for.js'
import { makeRequest, variedEndpoints } from './fixtures.js'

/**
 * What every profile handler must do, run through the real scheduler with its config: ask only for profiles of the
 * config, each at most once, finish, and name as primary a profile that ran and found endpoints — or throw a PickerError.
 */
export function profileHandlerContract(name: string, yaml: string) {
  describe(`profile handler contract: ${name}`, () => {
    it('runs each profile at most once and names a primary that ran', () => {
      const s = schedulerFor(yaml)
      for (const eps of [variedEndpoints(), variedEndpoints().slice(0, 1), variedEndpoints().slice(1, 2)]) {
        for (const prompt of ['short', 'x'.repeat(2000)]) {
          try {
            const out = s.schedule(makeRequest({ prompt }), eps)
            expect(new Set(out.profilesRun).size).toBe(out.profilesRun.length)
            expect(out.profilesRun.every((p) => s.plugins.profiles.has(p))).toBe(true)
            expect(out.profilesRun).toContain(out.result.primaryProfile)
            expect(out.result.profileResults.get(out.result.primaryProfile)?.targets.length).toBeGreaterThan(0)
          } catch (err) {
            expect(err).toBeInstanceOf(PickerError)
          }
        }
      }
    })
  })
}
