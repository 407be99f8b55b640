/**
 * Export options: the common ones plus every format plugin's (registry.ts), merged into one zod
 * schema. Defaults reproduce Label Studio's converter; each `fix*` option corrects one of its
 * documented quirks (README "Differences from Label Studio").
 */
import type { z } from 'zod';
import type { FormatOption } from './plugin.ts';
import type { COMMON_OPTIONS } from './plugins/shared-options.ts';
import { type FixInfo, type FORMAT_PLUGINS, REGISTRY } from './registry.ts';

type UnionToIntersection<U> = (U extends unknown ? (k: U) => void : never) extends (k: infer I) => void
  ? I
  : never;
type SchemasOf<O> = { [K in keyof O]: O[K] extends FormatOption<infer S> ? S : never };
type PluginOptions = (typeof FORMAT_PLUGINS)[number]['options'];
type OptionsShape = SchemasOf<typeof COMMON_OPTIONS> & SchemasOf<UnionToIntersection<PluginOptions>>;

export const exportOptionsSchema = REGISTRY.optionsSchema() as unknown as z.ZodObject<OptionsShape>;

export type ExportOptions = z.infer<typeof exportOptionsSchema>;
export type ExportOptionsInput = z.input<typeof exportOptionsSchema>;

/** Validates and fills defaults; throws a ZodError (issue paths name the option). */
export function parseExportOptions(input: ExportOptionsInput = {}): ExportOptions {
  return exportOptionsSchema.parse(input);
}

/** `--fix NAME` switches: each corrects one documented quirk of Label Studio's converter. */
export const FIXES: Readonly<Record<string, FixInfo>> = REGISTRY.fixes();

export type FixName = keyof typeof FIXES;
