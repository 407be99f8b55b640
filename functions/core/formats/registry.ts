/**
 * The export formats: one plugin per format (plugins/*.ts), listed here in Label Studio's enum
 * order. Adding a format = one plugin file + one line in FORMAT_PLUGINS (docs/adding-a-format.md).
 * `FormatRegistry` also serves test-local registries (a tiny format registered next to these).
 */
import { z } from 'zod';
import type { LabelSchema } from '../config/schema.ts';
import type { CliFlag, FormatOption, FormatPlugin, FormatSupport } from './plugin.ts';
import { ASR_MANIFEST_FORMAT } from './plugins/asr.ts';
import { BRUSH_TO_COCO_FORMAT, BRUSH_TO_NUMPY_FORMAT, BRUSH_TO_PNG_FORMAT } from './plugins/brush.ts';
import { COCO_FORMAT, COCO_WITH_IMAGES_FORMAT } from './plugins/coco.ts';
import { CONLL2003_FORMAT } from './plugins/conll.ts';
import { CSV_FORMAT, TSV_FORMAT } from './plugins/csv.ts';
import { CSV_OLD_FORMAT } from './plugins/csv-old.ts';
import { DOCLANG_FORMAT } from './plugins/doclang.ts';
import { JSON_FORMAT } from './plugins/json.ts';
import { JSON_MIN_FORMAT } from './plugins/json-min.ts';
import { COMMON_OPTIONS } from './plugins/shared-options.ts';
import { VOC_FORMAT } from './plugins/voc.ts';
import {
  YOLO_FORMAT,
  YOLO_OBB_FORMAT,
  YOLO_OBB_WITH_IMAGES_FORMAT,
  YOLO_WITH_IMAGES_FORMAT,
} from './plugins/yolo.ts';
import { configFacts } from './support.ts';
import type { FormatWriterFactory } from './types.ts';

/** The built-in formats, in Label Studio's enum order. */
export const FORMAT_PLUGINS = [
  JSON_FORMAT,
  JSON_MIN_FORMAT,
  CSV_FORMAT,
  TSV_FORMAT,
  CONLL2003_FORMAT,
  COCO_FORMAT,
  VOC_FORMAT,
  BRUSH_TO_NUMPY_FORMAT,
  BRUSH_TO_PNG_FORMAT,
  ASR_MANIFEST_FORMAT,
  YOLO_FORMAT,
  YOLO_OBB_FORMAT,
  CSV_OLD_FORMAT,
  YOLO_WITH_IMAGES_FORMAT,
  COCO_WITH_IMAGES_FORMAT,
  YOLO_OBB_WITH_IMAGES_FORMAT,
  BRUSH_TO_COCO_FORMAT,
  DOCLANG_FORMAT,
] as const;

export type FormatName = (typeof FORMAT_PLUGINS)[number]['name'];

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

/** A `--fix NAME` switch: the boolean option it turns on. */
export interface FixInfo {
  readonly option: string;
  readonly description: string;
}

/** A `convert` flag with the option it sets. */
export interface OptionFlag extends CliFlag {
  readonly option: string;
}

/**
 * A set of format plugins with the lookups every consumer needs. Throws at construction on two
 * plugins with one name, one option key bound to two different definitions, or one fix/flag name
 * used for two options.
 */
export class FormatRegistry {
  readonly #byName = new Map<string, FormatPlugin>();
  /** Every option, each key once, in KEY_ORDER then as met (common first, then plugin order). */
  readonly options = new Map<string, FormatOption>();

  constructor(
    readonly plugins: readonly FormatPlugin[],
    common: Readonly<Record<string, FormatOption>> = COMMON_OPTIONS,
  ) {
    for (const p of plugins) {
      if (this.#byName.has(p.name)) throw new Error(`format ${p.name} is registered twice`);
      this.#byName.set(p.name, p);
    }
    const all = new Map<string, FormatOption>();
    for (const [key, opt] of [common, ...plugins.map((p) => p.options)].flatMap((o) => Object.entries(o))) {
      const known = all.get(key);
      if (known && known !== opt) throw new Error(`option ${key} is defined differently by two formats`);
      all.set(key, opt);
    }
    for (const key of inOptionOrder([...all.keys()], (k) => k)) this.options.set(key, all.get(key)!);
    const names = new Set<string>();
    for (const [key, opt] of this.options) {
      for (const n of [opt.fix && `fix ${opt.fix.name}`, opt.cli && `flag ${opt.cli.flag}`]) {
        if (!n) continue;
        if (names.has(n)) throw new Error(`${n} is used by two options (${key})`);
        names.add(n);
      }
    }
  }

  /** Every format name, in registry order. */
  get names(): string[] {
    return this.plugins.map((p) => p.name);
  }

  /** Exact, case-sensitive lookup, like Label Studio's `Format.from_string`. */
  get(name: string): FormatPlugin | undefined {
    return this.#byName.get(name);
  }

  /** Formats with a writer, in registry order. */
  implemented(): string[] {
    return this.plugins.filter((p) => p.writer).map((p) => p.name);
  }

  writer(name: string): FormatWriterFactory | undefined {
    return this.#byName.get(name)?.writer;
  }

  /** Each format's support for a label config, in registry order. */
  support(schema: LabelSchema): Array<{ name: string } & FormatSupport> {
    const facts = configFacts(schema);
    return this.plugins.map((p) => ({ name: p.name, ...p.supports(facts) }));
  }

  /** The formats a label config supports, in registry order. */
  supported(schema: LabelSchema): string[] {
    return this.support(schema)
      .filter((s) => s.supported)
      .map((s) => s.name);
  }

  /** One zod object of every option (validation and defaults), in option order. */
  optionsSchema(): z.ZodObject<Record<string, z.ZodType>> {
    return z.object(Object.fromEntries([...this.options].map(([k, o]) => [k, o.schema])));
  }

  /** `--fix NAME` switches, in option order. */
  fixes(): Record<string, FixInfo> {
    const out: Record<string, FixInfo> = {};
    for (const [option, o] of this.options)
      if (o.fix) out[o.fix.name] = { option, description: o.fix.description };
    return out;
  }

  /** Options with a `convert` flag, in option order. */
  flags(): OptionFlag[] {
    return [...this.options].flatMap(([option, o]) => (o.cli ? [{ ...o.cli, option }] : []));
  }
}

/** The built-in formats. */
export const REGISTRY = new FormatRegistry(FORMAT_PLUGINS);

/** The writer of each implemented built-in format. */
export const WRITERS: Partial<Record<FormatName, FormatWriterFactory>> = Object.fromEntries(
  FORMAT_PLUGINS.flatMap((p) => ('writer' in p && p.writer ? [[p.name, p.writer]] : [])),
);

export function implementedFormats(): FormatName[] {
  return REGISTRY.implemented() as FormatName[];
}
