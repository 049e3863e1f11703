import { pass, warn, type DoctorCheck, type Finding } from '../check.js'
import { doorName } from '../doors.js'
import { errorMessage } from '../http-probe.js'

export const modelName: DoctorCheck = {
  id: 'model-name',
  title: 'The model name clients must send',
  seeds: "seeds' \"Important: the model name\" (404 trap)",
  symptom: 'chat completions answer 404 "The model … does not exist"',
  cause: 'the client sends the Kubernetes name of the LLMInferenceService (qwen3-0-6b) instead of the name the server registered (Qwen/Qwen3-0.6B)',
  fix: 'send a "model" that GET …/v1/models lists',
  async live({ doors }) {
    const findings: Finding[] = []
    for (const door of doors.list) {
      const subject = doorName(door)
      // A door that wants a key still has a model name to get right: without one, the endpoints behind it say what it is.
      const { response } = await doors.models(door)
      const { ids, from } = await doors.servedModels(door)
      if (ids.length === 0) {
        findings.push(warn(subject, `GET ${door.modelsPath} answered ${response.status || 'nothing'} (${errorMessage(response)}) and no endpoint behind it lists a model`, `curl -s ${door.url}${door.modelsPath}`))
        continue
      }
      const k8sName = door.derivedFrom?.split('/').at(-1)
      const trap = k8sName && !ids.includes(k8sName) ? ` — not "${k8sName}", the Kubernetes name: that answers 404` : ''
      const source = response.status === 200 ? '' : ` (listed by ${from}: GET ${door.modelsPath} answers ${response.status || 'nothing'} through this route)`
      findings.push(pass(subject, `clients send "model": ${ids.map((id) => JSON.stringify(id)).join(' or ')}${trap}${source}`))
    }
    return findings
  },
  static({ stack }) {
    return stack.llmInferenceServices.map((isvc) => {
      const served = isvc.spec.model.name ?? isvc.spec.model.uri.replace(/^[a-z]+:\/\//, '')
      const subject = `LLMInferenceService/${isvc.metadata.namespace}/${isvc.metadata.name}`
      return pass(subject, `clients send "model": ${JSON.stringify(served)}${served === isvc.metadata.name ? '' : ` — not "${isvc.metadata.name}", the Kubernetes name: that answers 404`}`)
    })
  },
}
