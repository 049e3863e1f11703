/** Kinds of failure the simulator can inject (its own file so the CLI can list them without loading the schema). */
export const failureTypes = ['rate_limit', 'server_error', 'connection_reset', 'slow_start', 'hang'] as const
export type FailureType = (typeof failureTypes)[number]
