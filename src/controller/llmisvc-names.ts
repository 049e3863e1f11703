/** Child object names exactly as KServe's LLMInferenceService controller derives them. */
export const childNames = (name: string) => ({
  workload: `${name}-kserve`,
  prefillWorkload: `${name}-kserve-prefill`,
  workloadService: `${name}-kserve-workload-svc`,
  scheduler: `${name}-kserve-router-scheduler`,
  eppService: `${name}-epp-service`,
  pool: `${name}-inference-pool`,
  route: `${name}-kserve-route`,
})

/** The default Gateway of OpenShift AI 3.x, which `router.gateway: {}` attaches to. */
export const DEFAULT_GATEWAY = { name: 'openshift-ai-inference', namespace: 'openshift-ingress' } as const

/** The port KServe's workload Service and InferencePool target. */
export const WORKLOAD_PORT = 8000

/** The selector shared by the workload Service and the InferencePool (KServe `GetWorkloadLabelSelector`). */
export function workloadSelector(name: string): Record<string, string> {
  return {
    'app.kubernetes.io/part-of': 'llminferenceservice',
    'app.kubernetes.io/name': name,
    'kserve.io/component': 'workload',
  }
}
