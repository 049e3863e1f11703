import { fail, pass, ref, warn, type DoctorCheck, type Finding } from '../check.js'
import { probe } from '../http-probe.js'

/** The `enable_prefix_caching` label of vLLM's `vllm:cache_config_info`, or undefined when the server does not expose it. */
export function prefixCachingLabel(metricsText: string): string | undefined {
  const line = metricsText.split('\n').find((l) => l.startsWith('vllm:cache_config_info{'))
  return line?.match(/enable_prefix_caching="([^"]*)"/)?.[1]
}

export const prefixCachingEnabled: DoctorCheck = {
  id: 'prefix-caching-enabled',
  title: 'Prefix caching is enabled on every model server',
  seeds: "seeds' check 11",
  symptom: 'the prefix-cache hit rate stays at 0% and TTFT does not drop for repeated prompts',
  cause: 'vLLM runs without automatic prefix caching (--enable-prefix-caching)',
  fix: 'enable prefix caching on every model server (simulator: spec.simulator.enablePrefixCaching: true; vLLM: --enable-prefix-caching --block-size=16)',
  async live({ status }) {
    return Promise.all(
      status.endpoints.map(async (e): Promise<Finding> => {
        const subject = `endpoint ${e.id}`
        const r = await probe(`${e.url}/metrics`)
        if (r.status !== 200) return warn(subject, `cannot read ${e.url}/metrics (${r.status || r.error})`, '`maitred get endpoints`')
        const enabled = prefixCachingLabel(r.text)
        if (enabled === undefined) return warn(subject, 'its /metrics has no vllm:cache_config_info: cannot tell', `check the server's flags for --enable-prefix-caching`)
        const [namespace, name] = e.id.split('/')
        return enabled === 'True'
          ? pass(subject, 'vllm:cache_config_info{enable_prefix_caching="True"}')
          : fail(subject, `vllm:cache_config_info{enable_prefix_caching="${enabled}"}`, e.kind === 'simulated' ? `set spec.simulator.enablePrefixCaching: true on ${ref('ModelServer', namespace ?? '', name ?? '')}` : 'add --enable-prefix-caching --block-size=16 to its vLLM args')
      }),
    )
  },
  static({ stack }) {
    const off = stack.modelServers.filter((m) => m.spec.simulator && m.spec.simulator.enablePrefixCaching === false)
    if (off.length === 0) return [pass('ModelServers', 'every simulated server caches prefixes (external servers are checked when running)')]
    return off.map((m) => fail(ref('ModelServer', m.metadata.namespace, m.metadata.name), 'spec.simulator.enablePrefixCaching is false', 'set spec.simulator.enablePrefixCaching: true'))
  },
}
