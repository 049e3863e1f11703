/**
 * The EndpointPickerConfig a managed scheduler gets when the LLMInferenceService has a prefill workload and no config of
 * its own: the P/D-aware config of the seed (bug 4's fix: pd-profile-handler with prefill and decode profiles).
 * Without prefill the picker's own built-in default applies (queue 2, kv-cache 2, prefix-cache 3, max-score-picker).
 */
export const PD_PICKER_CONFIG: Record<string, unknown> = {
  apiVersion: 'inference.networking.x-k8s.io/v1alpha1',
  kind: 'EndpointPickerConfig',
  plugins: [
    { type: 'prefill-header-handler' },
    { type: 'prefill-filter' },
    { type: 'decode-filter' },
    { type: 'max-score-picker' },
    { type: 'queue-scorer' },
    { type: 'prefix-cache-scorer' },
    { type: 'pd-profile-handler', parameters: { threshold: 0 } },
  ],
  schedulingProfiles: ['prefill', 'decode'].map((name) => ({
    name,
    plugins: [
      { pluginRef: `${name}-filter` },
      { pluginRef: 'queue-scorer', weight: 1 },
      { pluginRef: 'prefix-cache-scorer', weight: 3 },
      { pluginRef: 'max-score-picker' },
    ],
  })),
}
