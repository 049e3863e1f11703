/**
 * The seed's default EndpointPickerConfig (what KServe's managed router ships, and GIE/llm-d's built-in default):
 * queue-scorer 2, kv-cache-utilization-scorer 2, prefix-cache-scorer 3, max-score-picker, one `default` profile.
 */
export const DEFAULT_PICKER_CONFIG_YAML = `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: kv-cache-utilization-scorer
- type: prefix-cache-scorer
- type: max-score-picker
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: queue-scorer
    weight: 2
  - pluginRef: kv-cache-utilization-scorer
    weight: 2
  - pluginRef: prefix-cache-scorer
    weight: 3
  - pluginRef: max-score-picker
`
