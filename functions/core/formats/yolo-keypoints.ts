/**
 * YOLO keypoint (pose) lines (docs/label-studio-behaviour.md#yolo-keypoints), used by the YOLO writers when the label
 * config has KeyPointLabels: one line per rectangle, `cls cx cy w h` followed by `x y 2` for each
 * keypoint name in `model_index` order (`0.0 0.0 0` when the rectangle has none of that name).
 * Keypoints attach to their rectangle through `parentID`; lines are joined without a trailing
 * newline; rotation and polygons are ignored, as in the reference.
 */

import type { ItemLedger } from '../accounting.ts';
import type { CategoryTable } from '../images/categories.ts';
import { notCarried, regionShape } from '../images/shapes.ts';
import { nonEmptyList, numberAt } from '../images/values.ts';
import type { TaskRef } from '../items.ts';
import { pyFloatRepr } from '../json/py-number.ts';
import { type JsonObject, type JsonValue, num } from '../json/value.ts';
import type { Report } from '../report.ts';

interface Rect {
  cls: number;
  xc: number;
  yc: number;
  w: number;
  h: number;
  keypoints: Map<string, [number, number]>;
}

/** A dict key for a result id: Python compares `"1"` and `1` as different, and `1` equal to `1.0`. */
function idKey(id: JsonValue | undefined): string {
  if (id === undefined || id === null) return 'null';
  if (typeof id === 'string') return `s:${id}`;
  const n = num(id);
  return n !== undefined ? `n:${n}` : `j:${JSON.stringify(id)}`;
}

const typeOf = (v: JsonObject): string => (typeof v.type === 'string' ? v.type.toLowerCase() : '');

/**
 * The label file text for one item's values. With `acc`, every value is accounted for: rectangles
 * and the keypoints attached to them are exported; a keypoint without a parent rectangle, a
 * rectangle whose label is not in the config, invalid geometry and other shapes are skipped.
 * `format` is the running format's name (`YOLO`, `YOLO_OBB`, …), as skip reasons give it.
 */
export function keypointLabelText(
  values: JsonObject[],
  categories: CategoryTable,
  kpOrder: string[],
  report: Report,
  ref: TaskRef,
  acc?: ItemLedger,
  format = 'YOLO',
): string {
  const skip = (v: JsonObject, reason: string) =>
    acc ? acc.skip(v, reason) : report.skip({ ...ref, reason });
  const rects = new Map<string, Rect>();
  const rectValues = new Map<string, JsonObject>();
  for (const v of values) {
    if (typeOf(v) !== 'rectanglelabels') continue;
    const labels = nonEmptyList(v, 'rectanglelabels');
    if (!labels) {
      // the reference test: a rectangle with no label gives no line, no error
      acc?.skip(v, `a rectangle has no label; ${format} keypoint lines need one, it is left out`);
      continue;
    }
    const cls = typeof labels[0] === 'string' ? categories.get(labels[0]) : undefined;
    if (cls === undefined) {
      // classes come from the config only
      acc?.skip(
        v,
        `label ${JSON.stringify(labels[0])} is not in the label config; ${format} keypoint classes come from it`,
      );
      continue;
    }
    const shape = regionShape(v);
    if (shape.kind !== 'box') {
      skip(
        v,
        shape.kind === 'invalid'
          ? shape.reason
          : 'a keypoint-mode rectangle has no usable box; it is left out',
      );
      continue;
    }
    const { x, y, w, h } = shape;
    const x1 = x / 100;
    const y1 = y / 100;
    const w1 = w / 100;
    const h1 = h / 100;
    // Python dict: a repeated id replaces the entry but keeps its first position (as Map.set does).
    const k = idKey(v.id);
    const replaced = rectValues.get(k);
    if (replaced) acc?.skip(replaced, 'another rectangle of the annotation has the same id and replaces it');
    rects.set(k, { cls, xc: x1 + w1 / 2, yc: y1 + h1 / 2, w: w1, h: h1, keypoints: new Map() });
    rectValues.set(k, v);
  }
  for (const v of values) {
    if (typeOf(v) !== 'keypointlabels') continue;
    const rect = rects.get(idKey(v.parentID));
    if (!rect) {
      acc?.skip(
        v,
        `a keypoint has no parent rectangle (parentID); ${format} keypoint lines need one, it is left out`,
      );
      continue;
    }
    const labels = nonEmptyList(v, 'keypointlabels');
    if (!labels || typeof labels[0] !== 'string') {
      acc?.skip(v, 'a keypoint has no label; it is left out');
      continue;
    }
    const x = numberAt(v, 'x');
    const y = numberAt(v, 'y');
    if (x === undefined || y === undefined) {
      skip(v, `keypoint "${labels[0]}" lacks numeric x/y; it is left out`);
      continue;
    }
    if (!kpOrder.includes(labels[0])) {
      acc?.skip(v, `keypoint label "${labels[0]}" has no model_index place in the line; it is left out`);
      continue;
    }
    rect.keypoints.set(labels[0], [x / 100, y / 100]);
    acc?.exported(v);
  }
  for (const v of rectValues.values()) acc?.exported(v);
  for (const v of values)
    if (acc && !['rectanglelabels', 'keypointlabels'].includes(typeOf(v)) && regionShape(v).kind !== 'other')
      acc.skip(
        v,
        notCarried(`${format} keypoint mode`, 'a region other than rectangles and their keypoints'),
      );
  const lines: string[] = [];
  for (const r of rects.values()) {
    let line = `${r.cls} ${pyFloatRepr(r.xc)} ${pyFloatRepr(r.yc)} ${pyFloatRepr(r.w)} ${pyFloatRepr(r.h)}`;
    for (const name of kpOrder) {
      const kp = r.keypoints.get(name);
      line += kp ? ` ${pyFloatRepr(kp[0])} ${pyFloatRepr(kp[1])} 2` : ' 0.0 0.0 0';
    }
    lines.push(line);
  }
  return lines.join('\n');
}
