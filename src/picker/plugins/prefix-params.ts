import { z } from 'zod'

/** Index parameters across versions: GIE v1.0 `hashBlockSize`, v1.1–1.3 `blockSize` (chars), v1.4+ `blockSizeTokens`. */
export const prefixIndexerParameters = {
  hashBlockSize: z.number().int().positive().optional(),
  blockSize: z.number().int().positive().optional(),
  blockSizeTokens: z.number().int().positive().optional(),
  maxPrefixBlocksToMatch: z.number().int().positive().optional(),
  maxPrefixTokensToMatch: z.number().int().positive().optional(),
  lruCapacityPerServer: z.number().int().positive().optional(),
  autoTune: z.boolean().optional(),
}
