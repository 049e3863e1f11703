import { join } from 'node:path'
import { OPEN_GATEWAY_YAML } from './open-gateway.js'
import { DEFAULT_PICKER_CONFIG_YAML } from '../../src/picker/default-config.js'
import { LocalCertificateAuthority } from '../../src/runtime/local-certificate-authority.js'
import type { DoctorReport } from '../../src/doctor/run-doctor.js'
import { runCli } from './stack-process.js'

/** A pool of simulators in its own namespace behind the open gateway at `/<namespace>` (rewritten to `/`). */
const pooledModel = (namespace: string, simulator: string, extra: { tls?: string; poolAnnotations?: string; failureMode?: string } = {}) => `
apiVersion: maitred.dev/v1alpha1
kind: ModelServer
metadata: {name: sim-0, namespace: ${namespace}, labels: {app: sim}}
spec:
  simulator: ${simulator}
${extra.tls ? `  tls: ${extra.tls}\n` : ''}---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata:
  name: pool
  namespace: ${namespace}
${extra.poolAnnotations ? `  annotations: ${extra.poolAnnotations}\n` : ''}spec:
  selector: {matchLabels: {app: sim}}
  targetPorts: [{number: 8000}]
  endpointPickerRef: {name: pool-epp, port: {number: 9002}${extra.failureMode ? `, failureMode: ${extra.failureMode}` : ''}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: route, namespace: ${namespace}}
spec:
  parentRefs: [{name: openshift-ai-inference, namespace: openshift-ingress}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /${namespace}}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}]
    backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: pool}]
---
`

/**
 * A model server behind a Service, with chat completions at `/<namespace>/v1/chat/completions` routed to the Service
 * (round-robin: no picker) and everything else under `/<namespace>` too.
 */
export const serviceRoute = (namespace: string, name: string, serverSpec: string) => `apiVersion: maitred.dev/v1alpha1
kind: ModelServer
metadata: {name: ${name}, namespace: ${namespace}, labels: {app: ${name}}}
spec: ${serverSpec}
---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec: {selector: {app: ${name}}, ports: [{port: 8000}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: route, namespace: ${namespace}}
spec:
  parentRefs: [{name: openshift-ai-inference, namespace: openshift-ingress}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /${namespace}/v1/chat/completions}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /v1/chat/completions}}}]
    backendRefs: [{kind: Service, name: ${name}, port: 8000}]
  - matches: [{path: {type: PathPrefix, value: /${namespace}}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}]
    backendRefs: [{kind: Service, name: ${name}, port: 8000}]
`

/**
 * The seeds' four bugs, each in its own namespace behind one open gateway:
 * - bug1: a model server that loses request bodies (the simulator's dropRequestBody fault injection);
 * - bug2: chat completions routed to the workload Service, so the picker never sees them (round-robin, "cx_total: 0"),
 *   and bug2-failopen: a pool whose remote picker is unreachable, hidden by failureMode FailOpen (the seeds' dummy cluster);
 * - bug3: a model server whose certificate is signed by another CA than the one its ModelServer trusts;
 * - bug4: a prefill/decode LLMInferenceService whose scheduler config is the single-profile default (no P/D awareness).
 * Certificates for bug 3 are issued into `dir`.
 */
export async function fourBugsStack(dir: string): Promise<string> {
  const serverCa = await LocalCertificateAuthority.open(join(dir, 'server-ca'))
  const otherCa = await LocalCertificateAuthority.open(join(dir, 'other-ca'))
  const cert = await serverCa.issue('bug3-sim', ['127.0.0.1'])
  const pickerConfig = JSON.stringify(DEFAULT_PICKER_CONFIG_YAML)
  return `${OPEN_GATEWAY_YAML}---
${pooledModel('bug1', '{dropRequestBody: true, timeScale: 20}')}
${pooledModel('bug3', `{timeScale: 20, tlsCertFile: ${JSON.stringify(cert.certFile)}, tlsKeyFile: ${JSON.stringify(cert.keyFile)}}`, { tls: `{caFile: ${JSON.stringify(otherCa.certFile)}}` })}
${serviceRoute('bug2', 'workload', '{simulator: {timeScale: 20}}')}---
${pooledModel('bug2-failopen', '{timeScale: 20}', { poolAnnotations: '{maitred.dev/endpoint-picker-address: "127.0.0.1:1"}', failureMode: 'FailOpen' })}
apiVersion: serving.kserve.io/v1alpha1
kind: LLMInferenceService
metadata: {name: pd, namespace: bug4}
spec:
  model: {uri: hf://Qwen/Qwen3-0.6B, name: Qwen/Qwen3-0.6B}
  replicas: 1
  prefill: {replicas: 1}
  router:
    scheduler: {config: {inline: ${pickerConfig}}}
    route: {}
    gateway: {}
`
}

/** `maitred doctor --json` with these arguments: exit code and report. */
export const doctor = async (args: string[]) => {
  const r = await runCli(['doctor', '--json', ...args])
  return { code: r.code, report: JSON.parse(r.stdout) as DoctorReport, stderr: r.stderr }
}

/** The findings of one check about subjects containing `about`. */
export const findings = (report: DoctorReport, check: string, about: string) =>
  report.checks.find((c) => c.id === check)!.findings.filter((f) => f.subject.includes(about))
