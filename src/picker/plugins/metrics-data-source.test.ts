import { describe, expect, it } from 'vitest'
import { coreMetricsExtractor } from './core-metrics-extractor.js'
import { metricsDataSource } from './metrics-data-source.js'

describe('data layer plugins', () => {
  it('metrics-data-source defaults to http /metrics and parses a Go interval', () => {
    expect(metricsDataSource.parameters.parse({})).toEqual({ path: '/metrics', insecureSkipVerify: true })
    expect(metricsDataSource.parameters.parse({ interval: '100ms' }).interval).toBe(100)
    expect(metricsDataSource.parameters.safeParse({ path: 'metrics' }).success).toBe(false)
  })
  it('core-metrics-extractor validates engineConfigs', () => {
    expect(coreMetricsExtractor.parameters.safeParse({ engineConfigs: [{ name: 'vllm', queuedRequestsSpec: 'q' }] }).success).toBe(true)
    expect(coreMetricsExtractor.parameters.safeParse({ engineConfigs: [{ name: 'vllm', queueSpec: 'q' }] }).success).toBe(false)
  })
})
