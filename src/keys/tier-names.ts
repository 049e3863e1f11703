/** The tiers MaaS shipped (spec §3): the names a key may be created with until the configured Tier resources say otherwise. */
export const DEFAULT_TIER_NAMES: readonly string[] = ['free', 'premium', 'enterprise']

/** Throws, naming the known tiers, when `tier` is not one of them. */
export function checkTierName(tier: string, tiers: readonly string[] = DEFAULT_TIER_NAMES): void {
  if (!tiers.includes(tier)) throw new Error(`unknown tier ${JSON.stringify(tier)}; one of ${tiers.join(', ')}`)
}
