/**
 * The export format catalogue (docs/label-studio-behaviour.md#format-catalogue) and which formats a label config supports (docs/label-studio-behaviour.md#supported-formats),
 * read from the format plugins (core/formats/registry.ts): each plugin carries its entry and its
 * support rule. The reference's oddities are kept by those rules: CSV_OLD is offered, a
 * KeyPointLabels-only image config gets YOLO_OBB but not YOLO/COCO, and a config with more than one
 * data key only gets the tabular formats (and DOCLANG). Only its crash is not reproduced: removing
 * COCO twice from a list (KeyPointLabels on a non-image object) raises ValueError there.
 */
import { FORMAT_PLUGINS, type FormatName, REGISTRY } from '../formats/registry.ts';
import type { LabelSchema } from './schema.ts';

export type { FormatName };

export interface FormatInfo {
  readonly name: string;
  /** The reference's enum value. */
  readonly value: number;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  /** False only for CSV_OLD: the reference lists it but its `convert()` silently does nothing for it. */
  readonly convertible: boolean;
}

/** In enum order. */
export const FORMATS: ReadonlyArray<FormatInfo & { readonly name: FormatName }> = FORMAT_PLUGINS.map(
  ({ name, value, title, description, tags, convertible }) => ({
    name,
    value,
    title,
    description,
    tags,
    convertible,
  }),
);

export const FORMAT_NAMES = FORMAT_PLUGINS.map((f) => f.name) as [FormatName, ...FormatName[]];

/** Exact, case-sensitive name lookup, like the reference's `Format.from_string`. */
export function isFormatName(s: string): s is FormatName {
  return REGISTRY.get(s) !== undefined;
}

export function formatInfo(name: FormatName): FormatInfo {
  return FORMATS.find((f) => f.name === name)!;
}

/** The formats the reference offers for a config, in enum order. */
export function supportedFormats(schema: LabelSchema): FormatName[] {
  return REGISTRY.supported(schema) as FormatName[];
}
