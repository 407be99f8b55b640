/**
 * The shape of an export format: one plugin object holds its catalogue entry, the rule for which
 * label configs support it, its options (with their CLI flags and `--fix` switches) and its writer.
 * The registry (registry.ts) lists the plugins; the CLI, `ls-export formats`, the pipeline and the
 * export API all read it. docs/adding-a-format.md shows how to add one.
 */
import type { z } from 'zod';
import type { ConfigFacts } from './support.ts';
import type { FormatWriterFactory } from './types.ts';

/** A CLI flag that sets one option of `convert`. */
export interface CliFlag {
  /** Long flag without the dashes, e.g. `coco-annotator`. */
  readonly flag: string;
  readonly type: 'string' | 'boolean';
  /** The value's placeholder in the help, e.g. `N`, `CHAR`, `URL` (string flags). */
  readonly arg?: string;
  /** Help text; `\n` starts a continuation line (indented under the text). */
  readonly help: string;
  /** Raw parsed value (string or true) to the option's input value; default: unchanged. */
  readonly toOption?: (raw: string | boolean) => unknown;
}

/** One export option a format reads from `ExportContext.options`. */
export interface FormatOption<S extends z.ZodType = z.ZodType> {
  /** Validation and default (pipeline `options`, CLI values). */
  readonly schema: S;
  /** Its `convert` flag, if it has one. */
  readonly cli?: CliFlag;
  /** Its `--fix NAME` switch (boolean options that correct one of Label Studio's quirks). */
  readonly fix?: { readonly name: string; readonly description: string };
}

export type FormatOptions = Readonly<Record<string, FormatOption>>;

/**
 * Whether a format can be exported for a label config. `reason` says why not (for messages);
 * `emptyOutputWarning` is reserved for "supported, but this config can only produce empty output".
 */
export interface FormatSupport {
  readonly supported: boolean;
  readonly reason?: string;
  readonly emptyOutputWarning?: string;
}

export interface FormatPlugin<N extends string = string, O extends FormatOptions = FormatOptions> {
  /** Label Studio's format name (`ExportFormat` key), exact case, e.g. `COCO`. */
  readonly name: N;
  /** Label Studio's enum value; the registry lists plugins in this order. */
  readonly value: number;
  readonly title: string;
  readonly description: string;
  /** Label Studio's tags for the format. */
  readonly tags: readonly string[];
  /** The files it writes, as shown to users, e.g. `result.json`, `labels/*.txt`. */
  readonly outputs: readonly string[];
  /** Whether it copies task media (images, audio) into the output. */
  readonly needsMedia: boolean;
  /** False only for CSV_OLD: Label Studio lists it but its `convert()` silently does nothing. */
  readonly convertible: boolean;
  /** Whether a label config supports it (Label Studio's `_get_supported_formats` rule for it). */
  supports(config: ConfigFacts): FormatSupport;
  /** Options it reads; an option shared with other formats is the same object in each plugin. */
  readonly options: O;
  /** Its writer; absent for formats listed but not implemented (CSV_OLD, DOCLANG). */
  readonly writer?: FormatWriterFactory;
}

/** Identity, keeping the literal name and option types (for `FormatName` and `ExportOptions`). */
export function defineFormat<const N extends string, const O extends FormatOptions>(
  plugin: FormatPlugin<N, O>,
): FormatPlugin<N, O> {
  return plugin;
}

export const SUPPORTED: FormatSupport = { supported: true };

/** `{supported: true}` when `ok`, else unsupported with `reason`. */
export const supportedIf = (ok: boolean, reason: string): FormatSupport =>
  ok ? SUPPORTED : { supported: false, reason };
