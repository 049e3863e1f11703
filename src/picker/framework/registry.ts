import type { z } from 'zod'
import type { Plugin } from './types.js'

/** Slots a plugin fills; the loader uses them to place profile plugins and to check references. */
export type PluginKind =
  | 'filter'
  | 'scorer'
  | 'picker'
  | 'profile-handler'
  | 'pre-request'
  | 'data-producer'
  | 'saturation-detector'
  | 'pd-decider'
  | 'data-source'

/** Services a plugin factory may use. Lookups work once every plugin of the config is constructed. */
export interface PluginContext {
  readonly now: () => number
  readonly random: () => number
  /** Another plugin of the same config, by name (resolved lazily: call it from a method, not the factory). */
  plugin(name: string): Plugin | undefined
  /** All plugins of the config, for plugins that find their peer by type. */
  plugins(): readonly Plugin[]
}

/** A reference from one plugin's parameters to another plugin, checked by the loader. */
export interface PluginReference {
  /** Path below `parameters`, e.g. `deciders.prefill`. */
  readonly path: string
  readonly name: string
  readonly kind: PluginKind
}

export interface PluginDefinition<P = unknown> {
  /** The config `type`. */
  readonly type: string
  /** Older spellings of the same type, accepted by the loader. */
  readonly aliases?: readonly string[]
  /** Validates and defaults `parameters` (a strict object: unknown keys are errors). */
  readonly parameters: z.ZodType<P>
  readonly kinds: readonly PluginKind[]
  readonly references?: (params: P) => readonly PluginReference[]
  /** Checks against the rest of the config (profile handlers: the profile names they use). */
  readonly check?: (params: P, config: { readonly profileNames: readonly string[] }) => readonly { path: string; message: string }[]
  create(name: string, params: P, ctx: PluginContext): Plugin
}

/** Plugin definitions by config type (and alias). */
export class PluginRegistry {
  readonly #byType = new Map<string, PluginDefinition>()

  register<P>(def: PluginDefinition<P>): this {
    for (const type of [def.type, ...(def.aliases ?? [])]) {
      if (this.#byType.has(type)) throw new Error(`plugin type ${type} registered twice`)
      this.#byType.set(type, def as PluginDefinition)
    }
    return this
  }

  get(type: string): PluginDefinition | undefined {
    return this.#byType.get(type)
  }

  /** Every accepted type spelling, sorted (for "unknown type" errors). */
  types(): string[] {
    return [...this.#byType.keys()].sort()
  }

  definitions(): PluginDefinition[] {
    return [...new Set(this.#byType.values())]
  }
}
