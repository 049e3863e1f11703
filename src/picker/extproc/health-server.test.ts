import * as grpc from '@grpc/grpc-js'
import { service as healthService } from 'grpc-health-check'
import { afterEach, describe, expect, it } from 'vitest'
import { HEALTH_SERVICES, type HealthServer, startHealthServer } from './health-server.js'
import { startExtProcServer } from './start-extproc-server.js'
import { createScriptedPicker } from './test-support/scripted-picker.js'

type HealthClient = grpc.Client & {
  Check(request: { service: string }, callback: (error: grpc.ServiceError | null, response?: { status: string }) => void): void
}

function check(port: number, service: string): Promise<string> {
  const Client = grpc.makeGenericClientConstructor(healthService as grpc.ServiceDefinition, 'Health')
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as HealthClient
  return new Promise<string>((resolve, reject) => {
    client.Check({ service }, (error, response) => {
      client.close()
      if (error) reject(error)
      else resolve(response?.status ?? 'UNKNOWN')
    })
  })
}

describe('gRPC health (--grpc-health-port)', () => {
  let health: HealthServer | undefined
  afterEach(async () => {
    await health?.close()
    health = undefined
  })

  it('reports liveness, readiness and the ext_proc service as SERVING once the server is up', async () => {
    const server = await startExtProcServer({ picker: createScriptedPicker([]), grpcPort: 0, healthPort: 0, secureServing: true })
    try {
      expect(HEALTH_SERVICES).toEqual(['liveness', 'readiness', 'envoy.service.ext_proc.v3.ExternalProcessor'])
      for (const service of [...HEALTH_SERVICES, '']) {
        expect(await check(server.healthPort, service)).toBe('SERVING')
      }
      await expect(check(server.healthPort, 'no.such.Service')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND })
    } finally {
      await server.close()
    }
  })

  it('goes NOT_SERVING for readiness and ext_proc while liveness stays SERVING', async () => {
    health = await startHealthServer({ port: 0, host: '127.0.0.1' })
    expect(await check(health.port, 'readiness')).toBe('NOT_SERVING')
    health.setServing(true)
    expect(await check(health.port, 'readiness')).toBe('SERVING')
    health.setServing(false)
    expect(await check(health.port, 'envoy.service.ext_proc.v3.ExternalProcessor')).toBe('NOT_SERVING')
    expect(await check(health.port, 'liveness')).toBe('SERVING')
  })
})
