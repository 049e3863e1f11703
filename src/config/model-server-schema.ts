import { z } from 'zod'
import { simOptionsSchema } from '../sim/sim-options.js'
import { objectMeta } from './object-meta.js'

/** Upstream TLS to an external model server (DestinationRule-like). */
const upstreamTls = z.strictObject({
  caFile: z.string().optional(),
  serverName: z.string().optional(),
  insecureSkipVerify: z.boolean().default(false),
})

/**
 * maitred's stand-in for a pod: labels that InferencePools and Services select on, and either a built-in simulator
 * (started as its own OS process) or the base URL of a real vLLM / OpenAI-compatible server.
 */
export const modelServerSchema = z
  .strictObject({
    apiVersion: z.literal('maitred.dev/v1alpha1'),
    kind: z.literal('ModelServer'),
    metadata: objectMeta,
    spec: z.strictObject({
      simulator: simOptionsSchema.optional(),
      external: z
        .strictObject({
          url: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')),
          /** The served model's context (vLLM's --max-model-len): a token limit never caps max_tokens past it. */
          maxModelLen: z.number().int().positive().optional(),
          /** Where the server publishes vLLM KV events (--kv-events-config), for precise-prefix-cache-producer. */
          kvEvents: z
            .strictObject({
              endpoint: z.string().regex(/^(tcp|ipc):\/\/[^*]+$/, 'a ZMQ address to connect to, such as tcp://10.0.0.5:5557'),
              replayEndpoint: z.string().regex(/^(tcp|ipc):\/\/[^*]+$/, 'a ZMQ address to connect to, such as tcp://10.0.0.5:5558').optional(),
            })
            .optional(),
        })
        .optional(),
      /** How the gateway and the picker connect to this server over HTTPS (an external https URL, or a simulator with a certificate). */
      tls: upstreamTls.optional(),
    }),
  })
  .superRefine((ms, ctx) => {
    if ((ms.spec.simulator === undefined) === (ms.spec.external === undefined))
      ctx.addIssue({ code: 'custom', path: ['spec'], message: 'set exactly one of spec.simulator or spec.external' })
  })
export type ModelServer = z.output<typeof modelServerSchema>
