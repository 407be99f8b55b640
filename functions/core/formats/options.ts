/**
 * Export options: the common ones plus every format plugin's (registry.ts), merged into one zod
 * schema. Defaults reproduce Label Studio's converter; each `fix*` option corrects one of its
 * documented quirks (README "Differences from Label Studio").
 */
import { z } from 'zod';
import type { FormatOption } from './plugin.ts';
import type { COMMON_OPTIONS } from './plugins/shared-options.ts';
import { type FixInfo, type FORMAT_PLUGINS, REGISTRY } from './registry.ts';

type UnionToIntersection<U> = (U extends unknown ? (k: U) => void : never) extends (k: infer I) => void
  ? I
  : never;
type SchemasOf<O> = { [K in keyof O]: O[K] extends FormatOption<infer S> ? S : never };
type PluginOptions = (typeof FORMAT_PLUGINS)[number]['options'];
type OptionsShape = SchemasOf<typeof COMMON_OPTIONS> & SchemasOf<UnionToIntersection<PluginOptions>>;

/**
 * The options' key order before formats became plugins. Parsed options serialize in this order
 * (manifests record them and are reproducible byte for byte); options not listed follow, in
 * registry order.
 */
const KEY_ORDER = [
  'dataKey',
  'csvSeparator',
  'spacy',
  'fixConllAllLabels',
  'fixConllBrokenSpans',
  'annotatorEmails',
  'copyAudio',
  'brushMaxPixels',
  'brushMaxTaskPixels',
  'brushMaxTotalPixels',
  'fixBrushMergePerLabel',
  'labelStudioUrl',
  'cocoAnnotator',
  'vocImages',
  'fixConfigCategoryIds',
  'fixRegionCategories',
  'fixRotatedBbox',
  'fixKeepNegativeImages',
  'fixNewestAnnotationWins',
  'fixCopyLocalImages',
  'fixObbDefaultRotation',
  'fixClipCoordinates',
  'fixCsvFormulaEscape',
];

/** Option keys in their stable order (KEY_ORDER, then the others as given). */
export function inOptionOrder<T>(items: readonly T[], key: (t: T) => string): T[] {
  const rank = (k: string) => (KEY_ORDER.includes(k) ? KEY_ORDER.indexOf(k) : KEY_ORDER.length);
  return items
    .map((t, i) => ({ t, i, r: rank(key(t)) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map(({ t }) => t);
}

function mergedShape(): Record<string, z.ZodType> {
  const keys = inOptionOrder([...REGISTRY.options.keys()], (k) => k);
  return Object.fromEntries(keys.map((k) => [k, REGISTRY.options.get(k)!.schema]));
}

export const exportOptionsSchema = z.object(mergedShape()) as unknown as z.ZodObject<OptionsShape>;

export type ExportOptions = z.infer<typeof exportOptionsSchema>;
export type ExportOptionsInput = z.input<typeof exportOptionsSchema>;

/** Validates and fills defaults; throws a ZodError (issue paths name the option). */
export function parseExportOptions(input: ExportOptionsInput = {}): ExportOptions {
  return exportOptionsSchema.parse(input);
}

/** `--fix NAME` switches: each corrects one documented quirk of Label Studio's converter. */
export const FIXES: Readonly<Record<string, FixInfo>> = Object.fromEntries(
  inOptionOrder(Object.entries(REGISTRY.fixes()), ([, f]) => f.option),
);

export type FixName = keyof typeof FIXES;
