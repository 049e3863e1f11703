import { describe, expect, it } from 'vitest'
import type { PolicyTargetRef } from '../config/policy-common.js'
import { effectivePolicy, type AttachmentPoint } from './policy-attachment.js'

const at: AttachmentPoint = { gateway: { namespace: 'gw', name: 'g' }, listener: 'https', route: { namespace: 'app', name: 'r' }, ruleName: 'chat' }
const on = (name: string, namespace: string, targetRef: Omit<PolicyTargetRef, 'group'>, form: 'defaults' | 'overrides' | 'implicit' = 'implicit') => ({
  name,
  metadata: { namespace },
  spec: { targetRef: { group: 'gateway.networking.k8s.io' as const, ...targetRef }, ...(form === 'implicit' ? {} : { [form]: {} }) },
})

describe('effectivePolicy (GEP-713, atomic)', () => {
  const gateway = on('gateway', 'gw', { kind: 'Gateway', name: 'g' }, 'defaults')
  const listener = on('listener', 'gw', { kind: 'Gateway', name: 'g', sectionName: 'https' })
  const route = on('route', 'app', { kind: 'HTTPRoute', name: 'r' })
  const rule = on('rule', 'app', { kind: 'HTTPRoute', name: 'r', sectionName: 'chat' })

  it('takes the most specific defaults', () => {
    expect(effectivePolicy([gateway, listener, route, rule], at)?.policy.name).toBe('rule')
    expect(effectivePolicy([gateway, listener, route], at)?.policy.name).toBe('route')
    expect(effectivePolicy([gateway, listener], at)?.policy.name).toBe('listener')
    expect(effectivePolicy([gateway], { ...at, listener: 'http' })?.policy.name).toBe('gateway')
  })

  it('lets the broadest overrides win over every route policy', () => {
    const mandate = on('mandate', 'gw', { kind: 'Gateway', name: 'g' }, 'overrides')
    const listenerMandate = on('listener-mandate', 'gw', { kind: 'Gateway', name: 'g', sectionName: 'https' }, 'overrides')
    expect(effectivePolicy([rule, route, listenerMandate, mandate], at)).toMatchObject({ policy: { name: 'mandate' }, form: 'overrides' })
    expect(effectivePolicy([rule, listenerMandate], at)?.policy.name).toBe('listener-mandate')
  })

  it('ignores policies of another namespace, listener, rule or target', () => {
    const elsewhere = [
      on('other-ns', 'app', { kind: 'Gateway', name: 'g' }),
      on('other-listener', 'gw', { kind: 'Gateway', name: 'g', sectionName: 'http' }),
      on('other-rule', 'app', { kind: 'HTTPRoute', name: 'r', sectionName: 'completions' }),
      on('other-route', 'app', { kind: 'HTTPRoute', name: 'r2' }),
    ]
    expect(effectivePolicy(elsewhere, at)).toBeUndefined()
  })
})
