/**
 * npm run bench:proxy — gateway overhead: the same simulated replica measured (a) directly and (b) through maitred's full
 * pipeline (route match, picker, metrics scraping, access log), in one run, at concurrency 1 and 64. Prints b/a.
 * The simulator runs 10 000× faster than real time so that its modelled GPU time is negligible and the proxy is what is measured.
 */
import { formatLoadTable, runLoad, type LoadResult } from './load.js'
import { startStackUnderTest } from './stack-under-test.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const STACK = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: bench, namespace: infra}
spec:
  listeners: [{name: http, protocol: HTTP, port: 8080, allowedRoutes: {namespaces: {from: All}}}]
---
apiVersion: serving.kserve.io/v1alpha2
kind: LLMInferenceService
metadata: {name: qwen, namespace: bench}
spec:
  model: {uri: hf://Qwen/Qwen3-0.6B, name: Qwen/Qwen3-0.6B}
  replicas: 1
  router: {scheduler: {}, route: {}, gateway: {refs: [{name: bench, namespace: infra}]}}
`
const BODY = JSON.stringify({ model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8 })

const stack = await startStackUnderTest(STACK, ['--time-scale', '10000'])
try {
  const [endpoint] = (await stack.status()).endpoints
  if (!endpoint) throw new Error('no endpoint')
  const direct = `${endpoint.url}/v1/chat/completions`
  const viaGateway = `${stack.state.gateways[0]!.urls[0]}/bench/qwen/v1/chat/completions`
  await runLoad('warm-up', viaGateway, BODY, 8, 2)
  const results: LoadResult[] = []
  for (const c of [1, 64]) {
    results.push(await runLoad('(a) direct to the replica', direct, BODY, c, SECONDS))
    results.push(await runLoad('(b) through maitred (InferencePool)', viaGateway, BODY, c, SECONDS))
  }
  console.log(formatLoadTable(results))
  console.log('\nratio b/a (through the gateway ÷ direct):')
  for (const c of [1, 64]) {
    const [a, b] = results.filter((r) => r.connections === c)
    console.log(`  concurrency ${String(c).padStart(2)}: req/s ${(b!.rps / a!.rps).toFixed(2)}×, p50 ${(b!.p50 / a!.p50).toFixed(2)}×, p99 ${(b!.p99 / a!.p99).toFixed(2)}×`)
  }
} finally {
  await stack.stop()
}
