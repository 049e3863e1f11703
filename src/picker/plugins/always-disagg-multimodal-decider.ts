import { z } from 'zod'
import type { PluginDefinition } from '../framework/registry.js'
import type { PdDecider } from '../framework/types.js'

const MEDIA_PARTS = new Set(['image_url', 'video_url', 'input_audio'])

/** llm-d HEAD: run the encode stage when a chat message carries image, video or audio content. */
export const alwaysDisaggMultimodalDecider: PluginDefinition<Record<string, never>> = {
  type: 'always-disagg-multimodal-decider',
  parameters: z.strictObject({}),
  kinds: ['pd-decider'],
  create: (name): PdDecider => ({
    type: 'always-disagg-multimodal-decider',
    name,
    disaggregate: (_cycle, request) => {
      const messages = request.body?.messages
      if (!Array.isArray(messages)) return false
      return messages.some(
        (m: unknown) =>
          Array.isArray((m as { content?: unknown })?.content) &&
          ((m as { content: unknown[] }).content).some((part) => MEDIA_PARTS.has((part as { type?: string })?.type ?? '')),
      )
    },
  }),
}
