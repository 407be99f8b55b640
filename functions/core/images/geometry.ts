/**
 * Region geometry of the image formats, with the reference's operation order kept for last-bit
 * equality (docs/label-studio-behaviour.md#coco-rotated-rectangles, docs/label-studio-behaviour.md#yolo-lines, docs/label-studio-behaviour.md#yolo-obb, docs/label-studio-behaviour.md#coco-per-item).
 *
 * Label Studio stores a rectangle as x, y, width, height in percent of the image and a rotation in
 * degrees, clockwise about the rectangle's top-left corner (y axis down).
 *
 * Trigonometry is correctly rounded (libm.ts), as glibc's is for Python, so results match the
 * reference to the last bit far more often than with V8's Math.sin/cos/atan.
 */
import { crAtan, crCos, crSin, fma } from './libm.ts';

export type Box = [x: number, y: number, w: number, h: number];
export type Point = [x: number, y: number];

/**
 * The reference COCO bbox of a rotated rectangle (`rotated_rectangle`), computed in percent units
 * although x and y percentages refer to different axes (geometrically wrong on non-square images).
 * Returns undefined where the reference divides by zero (rotated rectangle of width 0).
 */
export function referenceRotatedBox(x: number, y: number, w: number, h: number, r: number): Box | undefined {
  if (Math.abs(r) === 0) return [x, y, w, h];
  if (w === 0) return undefined;
  const alpha = crAtan(h / w);
  const beta = Math.PI * (r / 180);
  const radius = Math.sqrt((w / 2) * (w / 2) + (h / 2) * (h / 2));
  const x0 = x - radius * (crCos(Math.PI - alpha - beta) - crCos(Math.PI - alpha)) + w / 2;
  const y0 = y + radius * (crSin(Math.PI - alpha - beta) - crSin(Math.PI - alpha)) + h / 2;
  const thetas = [alpha + beta, Math.PI - alpha + beta, Math.PI + alpha + beta, 2 * Math.PI - alpha + beta];
  const xs = thetas.map((t) => x0 + radius * crCos(t));
  const ys = thetas.map((t) => y0 + radius * crSin(t));
  const minX = Math.min(...xs);
  const minY = Math.min(...ys);
  return [minX, minY, Math.max(...xs) - minX, Math.max(...ys) - minY];
}

/**
 * The four corners of a rotated rectangle in pixels (top-left, top-right, bottom-right,
 * bottom-left), as YOLO OBB computes them: divide by 100 first, then multiply by the size.
 */
export function rotatedCorners(
  x: number,
  y: number,
  w: number,
  h: number,
  r: number,
  ow: number,
  oh: number,
): Point[] {
  const X = (x / 100) * ow;
  const Y = (y / 100) * oh;
  const W = (w / 100) * ow;
  const H = (h / 100) * oh;
  const theta = r * (Math.PI / 180);
  const c = crCos(theta);
  const s = crSin(theta);
  return [
    [X, Y],
    [X + W * c, Y + W * s],
    [X + W * c - H * s, Y + W * s + H * c],
    [X - H * s, Y + H * c],
  ];
}

/** YOLO OBB corners normalised by the image size (docs/label-studio-behaviour.md#yolo-obb). */
export function obbCorners(
  x: number,
  y: number,
  w: number,
  h: number,
  r: number,
  ow: number,
  oh: number,
): Point[] {
  return rotatedCorners(x, y, w, h, r, ow, oh).map(([px, py]) => [px / ow, py / oh]);
}

/**
 * The true axis-aligned box of a rotated rectangle, in percent of the image (`--fix rotated-bbox`):
 * the corners are rotated in pixel space and bounded there.
 */
export function trueRotatedBoxPercent(
  x: number,
  y: number,
  w: number,
  h: number,
  r: number,
  ow: number,
  oh: number,
): Box {
  if (Math.abs(r) === 0 || !(ow > 0) || !(oh > 0)) return [x, y, w, h];
  const corners = rotatedCorners(x, y, w, h, r, ow, oh);
  const xs = corners.map((p) => p[0]);
  const ys = corners.map((p) => p[1]);
  const minX = Math.min(...xs);
  const minY = Math.min(...ys);
  return [
    (minX / ow) * 100,
    (minY / oh) * 100,
    ((Math.max(...xs) - minX) / ow) * 100,
    ((Math.max(...ys) - minY) / oh) * 100,
  ];
}

/** YOLO's centre box from percent x, y, w, h (`convert_annotation_to_yolo`). */
export function yoloBox(x: number, y: number, w: number, h: number): Box {
  return [(x + w / 2) / 100, (y + h / 2) / 100, w / 100, h / 100];
}

/** A rectangle clipped to [0, 100] % (`--fix clip-coordinates`). */
export function clipBoxPercent(x: number, y: number, w: number, h: number): Box {
  const x0 = Math.min(Math.max(x, 0), 100);
  const y0 = Math.min(Math.max(y, 0), 100);
  const x1 = Math.min(Math.max(x + w, 0), 100);
  const y1 = Math.min(Math.max(y + h, 0), 100);
  return [x0, y0, x1 - x0, y1 - y0];
}

export const clipPercent = (v: number): number => Math.min(Math.max(v, 0), 100);

/** Whether a percent rectangle leaves the image. */
export const boxOutside = (x: number, y: number, w: number, h: number): boolean =>
  x < 0 || y < 0 || w < 0 || h < 0 || x + w > 100 || y + h > 100;

/**
 * The shoelace area as the reference computes it: `0.5·|x·roll(y,1) − y·roll(x,1)|`, the two dot
 * products summed separately. NumPy hands them to OpenBLAS, whose ddot on FMA-capable x86 CPUs
 * accumulates short vectors (< 16 points) in order with fused multiply-adds; we do the same, so
 * those areas match to the last bit (longer polygons go through CPU-specific SIMD kernels in the
 * reference itself and may differ in the last bit).
 */
export function polygonArea(xs: number[], ys: number[]): number {
  const n = xs.length;
  let a = 0;
  let b = 0;
  for (let i = 0; i < n; i++) a = fma(xs[i], ys[(i + n - 1) % n], a);
  for (let i = 0; i < n; i++) b = fma(ys[i], xs[(i + n - 1) % n], b);
  return 0.5 * Math.abs(a - b);
}

/** `[minx, miny, maxx − minx, maxy − miny]`. */
export function polygonBbox(xs: number[], ys: number[]): Box {
  // Loops, not Math.min(...xs): a polygon can have more points than a call has arguments.
  let minX = Number.POSITIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < xs.length; i++) {
    if (xs[i] < minX) minX = xs[i];
    if (xs[i] > maxX) maxX = xs[i];
    if (ys[i] < minY) minY = ys[i];
    if (ys[i] > maxY) maxY = ys[i];
  }
  return [minX, minY, maxX - minX, maxY - minY];
}

/** A COCO-style region in pixels: polygon points x1, y1, x2, y2… (none for a box), bbox, area. */
export interface PixelRegion {
  segmentation?: number[];
  bbox: number[];
  area: number;
}

/** Whether every number of a pixel region (bbox, area, segmentation) is finite. */
export function finiteRegion(r: PixelRegion): boolean {
  return (
    Number.isFinite(r.area) &&
    r.bbox.every(Number.isFinite) &&
    (r.segmentation === undefined || r.segmentation.every(Number.isFinite))
  );
}

/** A percent box scaled to an image of `ow`×`oh` pixels, with its area (the reference's operation order). */
export function pixelBox([x, y, w, h]: Box, ow: number, oh: number): PixelRegion {
  const bx = (x * ow) / 100;
  const by = (y * oh) / 100;
  const bw = (w * ow) / 100;
  const bh = (h * oh) / 100;
  return { bbox: [bx, by, bw, bh], area: bw * bh };
}

/** Percent polygon points scaled to `W`×`H` pixels: flat segmentation, bbox and area (at least one point). */
export function pixelPolygon(points: readonly Point[], W: number, H: number): PixelRegion {
  const xs = points.map(([px]) => (px / 100) * W);
  const ys = points.map(([, py]) => (py / 100) * H);
  const segmentation: number[] = [];
  for (let i = 0; i < xs.length; i++) segmentation.push(xs[i], ys[i]);
  return { segmentation, bbox: polygonBbox(xs, ys), area: polygonArea(xs, ys) };
}

/**
 * The bbox of COCO keypoint slots (x, y, visibility per keypoint): around the visible ones,
 * `[0, 0, 0, 0]` when none is; `visible` = their indexes.
 */
export function keypointsBbox(slots: readonly number[]): { bbox: number[]; visible: number[] } {
  const visible: number[] = [];
  for (let i = 0; 3 * i < slots.length; i++) if (slots[3 * i + 2] > 0) visible.push(i);
  if (visible.length === 0) return { bbox: [0, 0, 0, 0], visible };
  const xs = visible.map((i) => slots[3 * i]);
  const ys = visible.map((i) => slots[3 * i + 1]);
  const minX = Math.min(...xs);
  const minY = Math.min(...ys);
  return { bbox: [minX, minY, Math.max(...xs) - minX, Math.max(...ys) - minY], visible };
}
