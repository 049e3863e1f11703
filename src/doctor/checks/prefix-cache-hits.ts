import { randomUUID } from 'node:crypto'
import { fail, pass, skip, type DoctorCheck, type Finding } from '../check.js'
import { doorName, type Door } from '../doors.js'
import { errorMessage } from '../http-probe.js'

/** A prompt of a few hundred tokens: many full KV blocks, fresh for this run so only the first probe can have warmed them. */
const sharedPrefix = () => `maitred doctor prefix probe ${randomUUID()}. ` + 'The quick brown fox jumps over the lazy dog while the picker remembers where it sent this prompt. '.repeat(20)

type Usage = { prompt_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } }

export const prefixCacheHits: DoctorCheck = {
  id: 'prefix-cache-hits',
  title: 'A repeated prefix hits the cache',
  seeds: "seeds' check 12",
  symptom: 'vllm:prefix_cache_hits_total stays 0 after shared-prefix traffic',
  cause: 'prefix caching is off, or the picker sends requests with the same prefix to different replicas (no prefix-cache-scorer)',
  fix: 'enable prefix caching (check above) and keep prefix-cache-scorer in the picker config',
  async live({ doors }) {
    const findings: Finding[] = []
    // One probe pair per backend: two doors onto the same pool share its caches.
    const byBackend = new Map<string, Door>()
    for (const d of doors.list) if (d.chatBackend.startsWith('InferencePool/') && !byBackend.has(`${d.route}|${d.chatBackend}`)) byBackend.set(`${d.route}|${d.chatBackend}`, d)
    for (const door of byBackend.values()) {
      const subject = doorName(door)
      const chat = await doors.chat(door)
      if (chat.locked) {
        findings.push(skip(subject, 'the door requires a key: pass --api-key to probe through it'))
        continue
      }
      if (chat.response.status !== 200) {
        findings.push(skip(subject, `chat completions do not work here (${chat.response.status || 'no answer'}); see the end-to-end check`))
        continue
      }
      const prompt = sharedPrefix()
      const first = await doors.send(door, prompt, undefined, chat.model)
      const second = first.status === 200 ? await doors.send(door, prompt, undefined, chat.model) : first
      if (second.status !== 200) {
        findings.push(skip(subject, `the probe answered ${second.status || 'nothing'}: ${errorMessage(second)}`))
        continue
      }
      const usage = (second.json as { usage?: Usage }).usage
      const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0
      findings.push(
        cached > 0
          ? pass(subject, `the second of two shared-prefix probes found ${cached} of ${usage?.prompt_tokens ?? '?'} prompt tokens cached`)
          : fail(subject, `the second of two identical probes found no cached tokens (usage.prompt_tokens_details.cached_tokens = ${usage?.prompt_tokens_details ? 0 : 'absent'})`, '`maitred get pools` (is prefix-cache-scorer in the config?) and the prefix-caching check above'),
      )
    }
    return findings
  },
}
