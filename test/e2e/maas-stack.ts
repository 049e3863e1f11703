import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import pg from 'pg'

export const REDIS_URL = process.env.MAITRED_TEST_REDIS ?? 'redis://127.0.0.1:6379'
export const POSTGRES_URL = process.env.MAITRED_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test'
export const ADMIN_TOKEN = `e2e-admin-${randomUUID()}`

/** A MaaS door over a simulated model and an echo server, with tiers sized for the tests. */
export function maasTestStack(echoUrl: string): string {
  return `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: maas-gateway, namespace: gw}
spec:
  listeners: [{name: http, protocol: HTTP, port: 8081, allowedRoutes: {namespaces: {from: All}}}]
---
apiVersion: serving.kserve.io/v1alpha1
kind: LLMInferenceService
metadata: {name: m, namespace: llm}
spec:
  model: {uri: hf://Qwen/Qwen3-0.6B, name: Qwen/Qwen3-0.6B}
  replicas: 2
  router: {scheduler: {}, route: {}, gateway: {refs: [{name: maas-gateway, namespace: gw}]}}
---
apiVersion: maitred.dev/v1alpha1
kind: ModelServer
metadata: {name: echo-0, namespace: llm, labels: {app: echo}}
spec: {external: {url: "${echoUrl}"}}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: llm}
spec: {selector: {app: echo}, ports: [{port: 80}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: echo, namespace: llm}
spec:
  parentRefs: [{name: maas-gateway, namespace: gw}]
  rules:
  - {name: echo, matches: [{path: {type: PathPrefix, value: /echo}}], backendRefs: [{kind: Service, name: echo, port: 80}]}
  # The route sets the upstream's own credential: the client's key is taken out before route filters run.
  - name: echo-signed
    matches: [{path: {type: PathPrefix, value: /echo/signed}}]
    filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: Authorization, value: Bearer upstream-token}]}}]
    backendRefs: [{kind: Service, name: echo, port: 80}]
---
apiVersion: kuadrant.io/v1
kind: AuthPolicy
metadata: {name: keys, namespace: gw}
spec:
  targetRef: {kind: Gateway, name: maas-gateway}
  rules:
    authentication:
      api-keys: {apiKey: {keyStore: {}}}
    response:
      success:
        filters:
          identity:
            json:
              properties:
                userid: {expression: auth.identity.userid}
                tier: {expression: auth.identity.tier}
---
apiVersion: maitred.dev/v1alpha1
kind: Tier
metadata: {name: burst, namespace: gw}
spec: {limits: {requests: [{limit: 100, window: 1m}]}}
---
apiVersion: maitred.dev/v1alpha1
kind: Tier
metadata: {name: metered, namespace: gw}
spec: {limits: {tokens: [{limit: 400, window: 1m}]}}
---
apiVersion: maitred.dev/v1alpha1
kind: Tier
metadata: {name: roomy, namespace: gw}
spec: {limits: {tokens: [{limit: 100000, window: 1m}]}}
---
apiVersion: maitred.dev/v1alpha1
kind: Tier
metadata: {name: free, namespace: gw}
spec: {limits: {requests: [{limit: 2, window: 2m}]}}
---
apiVersion: maitred.dev/v1alpha1
kind: Tier
metadata: {name: other-models, namespace: gw}
spec: {models: [some/other-model]}
`
}

/** Whether Redis and PostgreSQL answer; tests that need them skip with a message otherwise (CI starts both). */
export async function servicesUp(): Promise<{ redis: boolean; postgres: boolean }> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null })
  const redis = await r.connect().then(
    () => true,
    () => false,
  )
  r.disconnect()
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 1000 })
  const postgres = await client.connect().then(
    () => true,
    () => false,
  )
  await client.end().catch(() => {})
  return { redis, postgres }
}

/** A database of its own for one test run, dropped afterwards. */
export async function temporaryDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `maitred_e2e_${randomUUID().replaceAll('-', '')}`
  const admin = new pg.Client({ connectionString: POSTGRES_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(POSTGRES_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: POSTGRES_URL })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    },
  }
}

/** Creates a key through a stack's keys admin API. */
export async function createKey(adminUrl: string, tier: string, models?: string[]): Promise<{ key: string; id: string; keyPrefix: string }> {
  const res = await fetch(`${adminUrl}/v1/api-keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tier, name: `e2e-${tier}`, ...(models ? { models } : {}) }),
  })
  if (res.status !== 201) throw new Error(`create key: ${res.status} ${await res.text()}`)
  return (await res.json()) as { key: string; id: string; keyPrefix: string }
}
