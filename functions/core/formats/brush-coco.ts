/**
 * BRUSH_TO_COCO (docs/label-studio-behaviour.md#brush_to_coco): `result_coco.json` with brush masks traced to polygons
 * (external contours), polygons and rectangles, in Python `json.dump(indent=2, ensure_ascii=False)`
 * layout. Per item (image id = the item's index in the item stream, so skipped items leave gaps):
 * the image path is the first data value ending in .jpg/.jpeg/.png/.gif/.bmp; each label of each
 * brushlabels / polygonlabels / rectanglelabels / labels value gets its geometry (duplicated per
 * label); categories are numbered from 1 in first-seen order and registered before the geometry is
 * checked; the image entry is written only when its size is known and it got an annotation.
 *
 * Differences from the reference, on purpose:
 *  - Category colours are deterministic: `#` + the first 6 hex digits of the MD5 of the label name
 *    (UTF-8; a non-string label: its JSON text). The reference picks random colours.
 *  - Where the reference crashes (a value with original_width but no original_height, labels that
 *    are null/numbers, unhashable labels, non-numeric coordinates, an empty polygon), the value or
 *    label is reported and left out. Where it only logs (no image path, no results, undecodable
 *    RLE, RLE/size mismatch, missing sizes), the same data is left out and reported too. Masks above
 *    `brushMaxPixels`, or past the decoded-pixel budget per task / per run (`brushMaxTaskPixels`,
 *    `brushMaxTotalPixels`, core/brush/budget.ts), are refused before decoding.
 *  - The reference creates an empty `images/` folder; sinks create folders only for files written,
 *    and nothing is written there, so no `images/` appears.
 *
 * Streaming: the key order is images, annotations, categories, info. Image entries go straight into
 * the output file; annotation entries go to a spool (core/spool.ts) (memory up to a few MB, then an
 * anonymous temporary file) and are copied after the last image; categories (one per distinct
 * label) are kept in memory and written last. Memory stays flat in the number of tasks.
 */
import { createHash } from 'node:crypto';
import { type ItemLedger, RegionLedger, resultType } from '../accounting.ts';
import type { PixelBudget } from '../brush/budget.ts';
import { boundingRect, contourArea, findExternalContours } from '../brush/contours.ts';
import { pyDateTimeStr } from '../images/values.ts';
import { annotatorOf, type Item, itemsOfTask, pyStr, type TaskRef } from '../items.ts';
import { pyRound } from '../json/py-number.ts';
import { PY_JSON_COMPACT, PY_JSON_PRETTY, pyFloat, stringify } from '../json/serialize.ts';
import { type JsonObject, type JsonValue, keysOf, NumLit, num } from '../json/value.ts';
import { createSpool } from '../spool.ts';
import { BrushRegionError, decodeBrushMask, pixelBudget } from './brush.ts';
import type { ExportContext, FormatWriter } from './types.ts';

const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.gif', '.bmp'];
const TYPE_KEYS = ['brushlabels', 'polygonlabels', 'rectanglelabels', 'labels'] as const;
type TypeKey = (typeof TYPE_KEYS)[number];

/** The deterministic category colour: `#` + the first 6 hex digits of MD5(label name). */
export function categoryColor(name: JsonValue): string {
  const text = typeof name === 'string' ? name : stringify(name, PY_JSON_COMPACT);
  return `#${createHash('md5').update(text, 'utf8').digest('hex').slice(0, 6)}`;
}

/**
 * A category map key with Python dict semantics: `1`, `1.0` and `true` are one key; lists and
 * objects are unhashable (undefined: the reference crashes on them).
 */
function categoryKey(label: JsonValue): string | undefined {
  if (typeof label === 'string') return `s${label}`;
  if (label === null) return 'null';
  if (typeof label === 'boolean') return `n${label ? 1 : 0}`;
  if (typeof label === 'number' || label instanceof NumLit) {
    return label instanceof NumLit && !label.isFloat ? `n${label.raw}` : `n${num(label)}`;
  }
  return undefined;
}

/** The first task-data value that looks like an image path (case-insensitive extension). */
export function imagePathOf(data: JsonObject): string | undefined {
  for (const k of keysOf(data)) {
    const v = data[k];
    if (typeof v !== 'string') continue;
    const lower = v.toLowerCase();
    if (IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext))) return v;
  }
  return undefined;
}

/** `os.path.basename` on POSIX. */
const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/** Re-indents a stringified value to sit `pad` deeper (raw newlines only occur in the layout). */
const indented = (text: string, pad: string): string => text.replaceAll('\n', `\n${pad}`);

interface Geometry {
  segmentation: JsonValue[];
  area: JsonValue;
  bbox: JsonValue[];
}

class ValueError extends Error {}

function coordinate(v: JsonValue | undefined, what: string): number {
  const n = num(v);
  if (n === undefined || !Number.isFinite(n)) throw new ValueError(`${what} is not a number (${String(v)})`);
  return n;
}

/** Brush: one geometry per external contour with at least 3 points (docs/label-studio-behaviour.md#brush_to_coco, docs/label-studio-behaviour.md#external-contours). */
function brushGeometries(
  value: JsonObject,
  maxPixels: number,
  budget: PixelBudget,
): { geometries: Geometry[]; empty: boolean } {
  const { mask, width, height } = decodeBrushMask(value, { maxPixels, allowStringRle: true, budget });
  const geometries: Geometry[] = [];
  for (const contour of findExternalContours(mask, width, height)) {
    if (contour.length < 3) continue;
    geometries.push({
      segmentation: [contour.flat()],
      area: Math.trunc(contourArea(contour)),
      bbox: boundingRect(contour),
    });
  }
  return { geometries, empty: !mask.some((p) => p !== 0) };
}

/** Polygon: percent points → rounded pixel ints; bbox/area as OpenCV computes them on float32. */
function polygonGeometry(value: JsonObject): { geometry: Geometry; points: number } {
  const w = coordinate(value.original_width, 'original_width');
  const h = coordinate(value.original_height, 'original_height');
  const points = value.points;
  if (!Array.isArray(points)) throw new ValueError('points is not a list');
  if (points.length === 0) throw new ValueError('the polygon has no points');
  const pixels: [number, number][] = [];
  for (const p of points) {
    if (!Array.isArray(p) || p.length !== 2) throw new ValueError('a point is not an [x, y] pair');
    const x = pyRound((coordinate(p[0], 'a point x') * w) / 100);
    const y = pyRound((coordinate(p[1], 'a point y') * h) / 100);
    if (!Number.isSafeInteger(x) || !Number.isSafeInteger(y)) throw new ValueError('a point is out of range');
    pixels.push([x, y]);
  }
  const f32 = pixels.map(([x, y]) => [Math.fround(x), Math.fround(y)] as [number, number]);
  return {
    geometry: { segmentation: [pixels.flat()], area: Math.trunc(contourArea(f32)), bbox: boundingRect(f32) },
    points: pixels.length,
  };
}

/** Rectangle (or `labels` value): percent → pixel floats, rotation ignored, no segmentation. */
function rectangleGeometry(value: JsonObject): Geometry {
  const ow = coordinate(value.original_width, 'original_width');
  const oh = coordinate(value.original_height, 'original_height');
  const x = (coordinate(value.x, 'x') * ow) / 100;
  const y = (coordinate(value.y, 'y') * oh) / 100;
  const w = (coordinate(value.width, 'width') * ow) / 100;
  const h = (coordinate(value.height, 'height') * oh) / 100;
  return { segmentation: [], area: pyFloat(w * h), bbox: [pyFloat(x), pyFloat(y), pyFloat(w), pyFloat(h)] };
}

/** What one value yields for every one of its labels (computed once, reported once). */
type ValueResult = { geometries: Geometry[] } | { error: string };

export function brushCocoWriter(ctx: ExportContext): FormatWriter {
  const out = ctx.sink.open('result_coco.json');
  const annotations = createSpool();
  const maxPixels = ctx.options.brushMaxPixels;
  const budget = pixelBudget(ctx.options);
  const ledger = new RegionLedger(ctx, 'BRUSH_TO_COCO');
  const categoryIds = new Map<string, number>();
  const categories: JsonObject[] = [];
  let itemIndex = 0;
  let nextAnnotationId = 0;
  let imagesWritten = 0;
  let started = false;

  async function start(): Promise<void> {
    if (started) return;
    started = true;
    await out.write('{\n  "images": [');
  }

  function categoryOf(label: JsonValue): number | undefined {
    const key = categoryKey(label);
    if (key === undefined) return undefined;
    let id = categoryIds.get(key);
    if (id === undefined) {
      id = categoryIds.size + 1;
      categoryIds.set(key, id);
      categories.push({ id, name: label, supercategory: '', color: categoryColor(label), metadata: {} });
    }
    return id;
  }

  /** The geometry path a value takes for its labels, exactly in the reference's branch order. */
  function valueResult(
    value: JsonObject,
    typeKey: TypeKey,
    where: string,
    ref: TaskRef,
  ): ValueResult | undefined {
    const has = (...keys: string[]) => keys.every((k) => Object.hasOwn(value, k));
    const type = typeof value.type === 'string' ? value.type.toLowerCase() : '';
    try {
      if (typeKey === 'brushlabels' && has('rle')) {
        if (!has('original_width', 'original_height'))
          return { error: 'a brush region needs original_width and original_height' };
        const { geometries, empty } = brushGeometries(value, maxPixels, budget);
        if (geometries.length === 0 && !empty) {
          ctx.report.warn({
            ...ref,
            reason: `${where}: no contour of the mask has 3 points or more, so it gives no annotation (as in Label Studio)`,
          });
        }
        return { geometries };
      }
      if (typeKey === 'polygonlabels' && has('points')) {
        if (!has('original_width', 'original_height'))
          return { error: 'a polygon needs original_width and original_height' };
        const { geometry, points } = polygonGeometry(value);
        if (points < 3) {
          ctx.report.warn({
            ...ref,
            reason: `${where}: the polygon has ${points} point(s); exported as is (as in Label Studio)`,
          });
        }
        return { geometries: [geometry] };
      }
      if (type === 'rectanglelabels' || typeKey === 'labels') {
        if (!has('x', 'y', 'width', 'height', 'original_width', 'original_height')) {
          return { error: 'a rectangle needs x, y, width, height, original_width and original_height' };
        }
        return { geometries: [rectangleGeometry(value)] };
      }
    } catch (err) {
      if (err instanceof BrushRegionError || err instanceof ValueError) return { error: err.message };
      throw err;
    }
    return undefined;
  }

  async function addItem(item: Item, imageId: number, ref: TaskRef, acc: ItemLedger): Promise<void> {
    const itemName = item.annotation ? `annotation ${pyStr(item.annotationId)}` : 'task without annotations';
    const path = imagePathOf(item.input);
    if (path === undefined) {
      const reason = `${itemName}: no task data value is an image path (.jpg, .jpeg, .png, .gif or .bmp); left out (as in Label Studio)`;
      if (acc.pending().length > 0) acc.skipAll(reason);
      else ctx.report.skip({ ...ref, reason });
      return;
    }
    if (item.output.size === 0) {
      ctx.report.skip({
        ...ref,
        reason: `${itemName}: no results to export; the image is left out (as in Label Studio)`,
      });
      return;
    }
    let width: JsonValue = null;
    let height: JsonValue = null;
    const annotator = annotatorOf(item.completedBy, 'unknown', false);
    // Annotation ids are taken from a local counter and committed with the text, so an item that
    // throws half-way (runExport reports it) leaves neither entries nor a gap in the ids behind.
    let nextId = nextAnnotationId;
    let text = '';
    /** Values with at least one annotation entry in `text`. */
    const written: JsonObject[] = [];
    for (const [fromName, values] of item.output) {
      for (let i = 0; i < values.length; i++) {
        const value = values[i];
        const where = `${itemName}, "${fromName}" region ${i + 1}`;
        if (width === null && Object.hasOwn(value, 'original_width')) {
          if (Object.hasOwn(value, 'original_height')) {
            width = value.original_width;
            height = value.original_height;
          } else {
            ctx.report.warn({
              ...ref,
              reason: `${where} has original_width but no original_height; its size is not used for the image (Label Studio's converter crashes)`,
            });
          }
        }
        const typeKey = TYPE_KEYS.find((k) => Object.hasOwn(value, k));
        if (typeKey === undefined) continue;
        const rawLabels = value[typeKey];
        let labels: JsonValue[];
        if (Array.isArray(rawLabels)) labels = rawLabels;
        else if (typeof rawLabels === 'string')
          labels = Array.from(rawLabels); // Python iterates a string's characters
        else {
          acc.skip(value, `${where} left out: "${typeKey}" is not a list of labels`);
          continue;
        }
        let result: ValueResult | undefined | null = null;
        for (const label of labels) {
          // Registered before the geometry is checked, as in the reference.
          const categoryId = categoryOf(label);
          if (categoryId === undefined) {
            acc.skip(value, `${where}: a label is a list or an object, not a category name; left out`);
            continue;
          }
          if (result === null) {
            result = valueResult(value, typeKey, where, ref);
            if (result && 'error' in result) acc.skip(value, `${where} left out: ${result.error}`);
          }
          if (!result || 'error' in result) continue;
          for (const g of result.geometries) {
            const id = nextId++;
            const entry: JsonObject = {
              id,
              image_id: imageId,
              category_id: categoryId,
              segmentation: g.segmentation,
              area: g.area,
              bbox: g.bbox,
              iscrowd: 0,
              annotator,
            };
            text += `${id > 0 ? ',' : ''}\n    ${indented(stringify(entry, PY_JSON_PRETTY), '    ')}`;
            if (!written.includes(value)) written.push(value);
          }
        }
      }
    }
    if (text === '') {
      const reason = `${itemName}: no brush, polygon or rectangle annotation could be made; the image is left out (as in Label Studio)`;
      if (acc.pending().length > 0) acc.skipAll(reason);
      else ctx.report.skip({ ...ref, reason });
      return;
    }
    for (const v of written) acc.exported(v);
    nextAnnotationId = nextId;
    await annotations.write(text);
    if (width === null || height === null) {
      ctx.report.warn({
        ...ref,
        reason: `${itemName}: the image size is unknown, so image ${imageId} has no entry while its annotations refer to it (as in Label Studio)`,
      });
      return;
    }
    const image: JsonObject = { id: imageId, file_name: basename(path), path, width, height };
    await out.write(
      `${imagesWritten > 0 ? ',' : ''}\n    ${indented(stringify(image, PY_JSON_PRETTY), '    ')}`,
    );
    imagesWritten++;
  }

  return {
    async addTask(task, ref) {
      budget.startTask();
      await start();
      for (const item of itemsOfTask(task, ctx.schema, ref, ctx.report)) {
        const acc = ledger.item(item, ref);
        await addItem(item, itemIndex++, ref, acc);
        acc.close((v) =>
          TYPE_KEYS.some((k) => Object.hasOwn(v, k))
            ? 'no polygon could be made from it (an empty mask or a degenerate shape)'
            : `a ${resultType(v)} result is not a brush, polygon or rectangle region; BRUSH_TO_COCO leaves it out`,
        );
      }
    },
    async finish() {
      await start();
      await out.write(imagesWritten > 0 ? '\n  ],\n  "annotations": [' : '],\n  "annotations": [');
      for await (const chunk of annotations.drain()) await out.write(chunk);
      const year = ctx.now().getFullYear();
      const info: JsonObject = {
        year,
        version: '1.0',
        description: 'Converted from Label Studio',
        contributor: 'Label Studio Converter',
        date_created: pyDateTimeStr(ctx.now()),
      };
      await out.write(
        `${nextAnnotationId > 0 ? '\n  ]' : ']'},\n  "categories": ${indented(stringify(categories, PY_JSON_PRETTY), '  ')},\n  "info": ${indented(stringify(info, PY_JSON_PRETTY), '  ')}\n}`,
      );
      await out.close();
    },
  };
}
