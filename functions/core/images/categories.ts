/**
 * Category lists of COCO and YOLO (docs/label-studio-behaviour.md#coco-categories, docs/label-studio-behaviour.md#yolo-categories, docs/label-studio-behaviour.md#yolo-keypoints).
 *
 * Reference behaviour (default):
 *  1. every label of every control tag is a category (Choices and Taxonomy options too);
 *  2. labels with an integer `category` attribute keep that id, listed first in config order;
 *  3. the other labels, sorted by code point, take the smallest free ids;
 *  4. a label met during the export that is not in the list gets `id = len(categories)`, which can
 *     collide with an explicit id (reported).
 *
 * Fixes: `fixConfigCategoryIds` — ids in config order (explicit ids kept, others the smallest free
 * id in config order), unknown labels get `max id + 1`, the list sorted by id;
 * `fixRegionCategories` — only labels of region controls (RectangleLabels, PolygonLabels,
 * KeyPointLabels, Labels) become categories.
 */
import type { ControlTag, LabelSchema } from '../config/schema.ts';
import { type JsonObject, keysOf } from '../json/value.ts';
import type { Report } from '../report.ts';

/** Label keys of a control's attributes in config order (integer-like labels included). */
const attrKeys = (control: ControlTag): string[] => keysOf(control.labelsAttrs as unknown as JsonObject);

export interface Category {
  id: number;
  name: string;
  /** COCO's merged keypoint category carries these. */
  supercategory?: string;
  keypoints?: string[];
  skeleton?: unknown[];
}

export interface CategoryOptions {
  configOrder?: boolean;
  regionOnly?: boolean;
}

export const REGION_LABEL_TYPES = new Set(['RectangleLabels', 'PolygonLabels', 'KeyPointLabels', 'Labels']);

/** Compares strings by Unicode code point, as Python sorts them (JS compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    // A surrogate (astral code point) sorts after every BMP character, whatever its unit value.
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * Python's `int(text)` for an attribute value: surrounding whitespace, a sign, digits with single
 * underscores between them. Numbers (dict schemas) are truncated like `int(5.7)`.
 */
export function pyInt(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*([+-]?)(\d(?:_?\d)*)\s*$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[2].replace(/_/g, ''));
  return m[1] === '-' ? -n : n;
}

/** A category list plus the name → id map, growing when unknown labels appear. */
export class CategoryTable {
  readonly list: Category[] = [];
  private readonly ids = new Map<string, number>();

  constructor(readonly opts: { configOrder?: boolean; report?: Report } = {}) {}

  add(category: Category): void {
    this.list.push(category);
    this.ids.set(category.name, category.id);
  }

  /** Maps a name to an id without adding a category (keypoint labels → the merged id). */
  alias(name: string, id: number): void {
    this.ids.set(name, id);
  }

  has(name: string): boolean {
    return this.ids.has(name);
  }

  get(name: string): number | undefined {
    return this.ids.get(name);
  }

  /** The id of a label, adding it as a new category when unknown (with a report entry). */
  idFor(name: string, where: { source: string; taskId?: string | number }): number {
    const known = this.ids.get(name);
    if (known !== undefined) return known;
    let id: number;
    if (this.opts.configOrder) {
      id = this.list.reduce((m, c) => Math.max(m, c.id), -1) + 1;
    } else {
      id = this.list.length;
    }
    const clash = this.list.find((c) => c.id === id);
    this.opts.report?.warn({
      ...where,
      reason: clash
        ? `label "${name}" is not in the label config; it became category ${id}, the id of "${clash.name}" too (Label Studio gives new labels len(categories); --fix config-category-ids avoids the clash)`
        : `label "${name}" is not in the label config; it was added as category ${id}`,
    });
    this.add({ id, name });
    return id;
  }

  /** Categories in id order (for the config-order fix and YOLO's classes.txt under it). */
  byId(): Category[] {
    return [...this.list].sort((a, b) => a.id - b.id);
  }
}

function labelControls(schema: LabelSchema, opts: CategoryOptions): ControlTag[] {
  const controls = [...schema.controls.values()];
  return opts.regionOnly ? controls.filter((c) => REGION_LABEL_TYPES.has(c.type)) : controls;
}

/** `_get_labels` (docs/label-studio-behaviour.md#coco-categories steps 1–3), or its config-order variant. */
export function labelCategories(
  schema: LabelSchema,
  opts: CategoryOptions = {},
  report?: Report,
): CategoryTable {
  const table = new CategoryTable({ configOrder: opts.configOrder, report });
  const controls = labelControls(schema, opts);
  const where = { source: 'label config' };
  const allLabels: string[] = [];
  const seen = new Set<string>();
  const explicit = new Map<string, number>();
  const explicitList: Category[] = [];
  for (const control of controls) {
    for (const label of control.labels) {
      if (!seen.has(label)) {
        seen.add(label);
        allLabels.push(label);
      }
    }
    for (const label of attrKeys(control)) {
      const attrs = control.labelsAttrs[label];
      if (!Object.hasOwn(attrs, 'category')) continue;
      const id = pyInt(attrs.category);
      if (id === undefined) {
        report?.warn({
          ...where,
          reason: `label "${label}" of "${control.name}" has category="${String(attrs.category)}", not an integer; it gets an automatic id`,
        });
        continue;
      }
      explicitList.push({ id, name: label });
      explicit.set(label, id);
    }
  }
  const used = new Set(explicit.values());
  const namesById = new Map<number, Set<string>>();
  for (const c of explicitList) namesById.set(c.id, (namesById.get(c.id) ?? new Set()).add(c.name));
  const shared = [...namesById].filter(([, names]) => names.size > 1);
  if (shared.length > 0) {
    report?.warn({
      ...where,
      reason: `labels share an explicit category id: ${shared.map(([id, names]) => `${id} (${[...names].join(', ')})`).join('; ')}`,
    });
  }
  const auto = allLabels.filter((l) => !explicit.has(l));
  if (!opts.configOrder) auto.sort(compareCodePoints);
  let next = 0;
  const autoList: Category[] = [];
  for (const name of auto) {
    while (used.has(next)) next++;
    autoList.push({ id: next, name });
    next++;
  }
  const all = [...explicitList, ...autoList];
  if (opts.configOrder) all.sort((a, b) => a.id - b.id); // stable: explicit ones first on a shared id
  for (const c of all) table.list.push(c);
  // Explicit names map to their last id (a Python dict assignment per label), autos to theirs.
  for (const [name, id] of explicit) table.alias(name, id);
  for (const c of autoList) table.alias(c.name, c.id);
  return table;
}

/** KeyPointLabels labels of all KeyPointLabels tags, schema order, de-duplicated. */
export function keypointLabels(schema: LabelSchema): string[] {
  const out: string[] = [];
  for (const control of schema.controls.values()) {
    if (control.type !== 'KeyPointLabels') continue;
    for (const l of control.labels) if (!out.includes(l)) out.push(l);
  }
  return out;
}

export const hasKeypointLabels = (schema: LabelSchema): boolean =>
  [...schema.controls.values()].some((c) => c.type === 'KeyPointLabels');

/**
 * COCO's keypoint merge (docs/label-studio-behaviour.md#coco-categories step 4): keypoint labels leave the list (the others keep
 * their ids) and one `default` category holding them all is appended with id max + 1.
 */
export function mergeKeypointCategories(table: CategoryTable, schema: LabelSchema): CategoryTable {
  const kps = keypointLabels(schema);
  if (kps.length === 0) return table;
  const merged = new CategoryTable(table.opts);
  const kpSet = new Set(kps);
  for (const c of table.list) if (!kpSet.has(c.name)) merged.list.push(c);
  for (const c of merged.list) merged.alias(c.name, table.get(c.name) ?? c.id);
  const id = merged.list.length ? Math.max(...merged.list.map((c) => c.id)) + 1 : 0;
  merged.list.push({ id, name: 'default', supercategory: 'default', keypoints: kps, skeleton: [] });
  for (const k of kps) merged.alias(k, id);
  return merged;
}

/**
 * `build_kp_order` (docs/label-studio-behaviour.md#coco-keypoints): keypoint label names ordered by their integer `model_index`
 * (labels without one, or reusing an index, are left out).
 */
export function keypointOrder(schema: LabelSchema): string[] {
  // dict.update: a later tag's label replaces the attributes but keeps the first position.
  const attrs = new Map<string, Record<string, string>>();
  for (const control of schema.controls.values()) {
    if (control.type !== 'KeyPointLabels') continue;
    for (const name of attrKeys(control)) attrs.set(name, control.labelsAttrs[name]);
  }
  const pairs: Array<[number, string]> = [];
  const used = new Set<number>();
  for (const [name, a] of attrs) {
    const idx = pyInt(a.model_index);
    if (idx === undefined || used.has(idx)) continue;
    pairs.push([idx, name]);
    used.add(idx);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  return pairs.map((p) => p[1]);
}

/**
 * YOLO keypoint mode (docs/label-studio-behaviour.md#yolo-keypoints): the RectangleLabels labels in config order, ids 0..n−1, each
 * with the keypoint names; no category is added during the export.
 */
export function yoloKeypointCategories(schema: LabelSchema): CategoryTable {
  const table = new CategoryTable();
  const kps = keypointLabels(schema);
  const names: string[] = [];
  for (const control of schema.controls.values()) {
    if (control.type !== 'RectangleLabels') continue;
    for (const l of control.labels) if (!names.includes(l)) names.push(l);
  }
  names.forEach((name, id) => {
    table.add({ id, name, keypoints: kps });
  });
  return table;
}
