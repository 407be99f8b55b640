/**
 * The shape of a region value, decided by its keys (not by its control's type), and validated once
 * for every geometry format (COCO, VOC, YOLO, YOLO_OBB, YOLO keypoints).
 *
 * What counts as invalid geometry (reported and left out, never written):
 * - a polygon without `points`, with points that are not finite `[x, y]` pairs, or with fewer
 *   than 2 points (0 points: YOLO writes a bare class id, COCO crashes in the reference; 1 point:
 *   a 3-column YOLO line loaders reject);
 * - a rectangle without finite x/y/width/height, or with width or height ≤ 0 (a zero-size box);
 * - a keypoint without finite x/y.
 * A 2-point polygon is kept as Label Studio writes it, with a warning (`shortPolygon`): loaders
 * read it, though YOLO loaders may take a 5-column line for a box.
 */
import type { JsonObject } from '../json/value.ts';
import { clipPercent } from './geometry.ts';
import { hasKey, numberAt, pointsOf } from './values.ts';

export type Shape =
  | { kind: 'box'; x: number; y: number; w: number; h: number }
  | { kind: 'polygon'; points: Array<[number, number]>; shortPolygon: boolean }
  | { kind: 'keypoint'; x: number; y: number }
  /** A region no image-detection format carries (ellipse, video region, brush mask, text span…). */
  | { kind: 'other'; what: string }
  /** Broken geometry: `reason` says what is wrong (ends with "; it is left out"). */
  | { kind: 'invalid'; reason: string };

const has = (v: JsonObject, ...keys: string[]) => keys.some((k) => hasKey(v, k));

/** The region kind of a value by its keys, without validating numbers. */
export function shapeKind(v: JsonObject): 'box' | 'polygon' | 'keypoint' | 'other' {
  if (has(v, 'points', 'polygonlabels', 'polygon')) return 'polygon';
  if (has(v, 'radiusX', 'radiusY', 'ellipselabels', 'ellipse')) return 'other';
  if (has(v, 'sequence', 'rle', 'brushlabels', 'start', 'end', 'startOffset', 'ranges')) return 'other';
  if (has(v, 'keypointlabels', 'keypoint')) return 'keypoint';
  if (has(v, 'x', 'y', 'width', 'height', 'rectanglelabels', 'rectangle')) return 'box';
  return 'other';
}

/** What an "other" value is, for messages. */
function otherWhat(v: JsonObject): string {
  if (has(v, 'radiusX', 'radiusY', 'ellipselabels', 'ellipse')) return 'an ellipse';
  if (has(v, 'sequence')) return 'a video region';
  if (has(v, 'rle', 'brushlabels')) return 'a brush mask';
  if (has(v, 'start', 'end', 'startOffset', 'ranges')) return 'a span (not an image region)';
  return 'a result without geometry';
}

/** The shape of a region value, validated (see the module doc for what is invalid). */
export function regionShape(v: JsonObject): Shape {
  const kind = shapeKind(v);
  if (kind === 'other') return { kind, what: otherWhat(v) };
  if (kind === 'polygon') {
    if (!hasKey(v, 'points')) return { kind: 'invalid', reason: 'a polygon has no points; it is left out' };
    const points = pointsOf(v);
    if (!points)
      return {
        kind: 'invalid',
        reason: 'a polygon has points that are not [x, y] number pairs (finite numbers); it is left out',
      };
    if (points.length < 2)
      return {
        kind: 'invalid',
        reason: `a polygon has ${points.length} point${points.length === 1 ? '' : 's'} (a region needs at least 2); it is left out`,
      };
    return { kind, points, shortPolygon: points.length < 3 };
  }
  if (kind === 'keypoint') {
    const x = numberAt(v, 'x');
    const y = numberAt(v, 'y');
    if (x === undefined || y === undefined)
      return { kind: 'invalid', reason: 'a keypoint lacks finite x/y; it is left out' };
    return { kind, x, y };
  }
  const x = numberAt(v, 'x');
  const y = numberAt(v, 'y');
  const w = numberAt(v, 'width');
  const h = numberAt(v, 'height');
  if (x === undefined || y === undefined || w === undefined || h === undefined)
    return { kind: 'invalid', reason: 'a rectangle lacks numeric x/y/width/height; it is left out' };
  if (!(w > 0 && h > 0))
    return {
      kind: 'invalid',
      reason: `a rectangle has zero or negative size (${w}×${h} %); it is left out`,
    };
  return { kind, x, y, w, h };
}

/** The warning for a 2-point polygon written as Label Studio writes it. */
export const SHORT_POLYGON =
  'a polygon has 2 points; it is written as Label Studio writes it (YOLO loaders may read a 5-column line as a box)';

/** "FORMAT cannot carry <what>; it is left out" for results a format has no place for. */
export const notCarried = (format: string, what: string): string =>
  `${format} cannot carry ${what}; it is left out`;

/** The warning for a region drawn partly outside its image (written as drawn unless clipped). */
export const OUTSIDE =
  'a region extends outside the image; written as drawn (--fix clip-coordinates clips it)';

/** The skip reason for a region whose pixel coordinates overflow (finite percentages, huge values). */
export const OVERFLOW =
  'its coordinates overflow when scaled to pixels (not finite); it is left out, as no JSON reader could load it';

/** Polygon points in percent, clipped to [0, 100] with `clip`; `outside`: a point lay outside the image. */
export function clippedPolygon(
  points: ReadonlyArray<[number, number]>,
  clip: boolean,
): { points: Array<[number, number]>; outside: boolean } {
  let outside = false;
  const out = points.map(([px, py]): [number, number] => {
    if (px < 0 || px > 100 || py < 0 || py > 100) outside = true;
    return clip ? [clipPercent(px), clipPercent(py)] : [px, py];
  });
  return { points: out, outside };
}
