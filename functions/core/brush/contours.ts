/**
 * External contours of a binary mask, reproducing OpenCV `findContours(RETR_EXTERNAL,
 * CHAIN_APPROX_SIMPLE)` point for point (docs/label-studio-behaviour.md#external-contours): Suzuki–Abe outer border following
 * on a zero-padded copy of the mask, with OpenCV's direction codes, start search, right-edge marking
 * and stop rule, so BRUSH_TO_COCO segmentations match the reference exactly.
 */

export type Point = [number, number];

export class ContourError extends Error {
  override name = 'ContourError';
}

// Cell states of the working grid. OpenCV stores these as 0, 1, nbd and nbd|0x80 (negative).
const BG = 0;
const FG = 1;
/** On a traced outer border. */
const VISITED = 2;
/** On a traced border with background checked to its right (Suzuki–Abe's "-nbd"). */
const RIGHT_EDGE = 3;

// Chain codes, x right / y down: 0 E, 1 NE, 2 N, 3 NW, 4 W, 5 SW, 6 S, 7 SE.
const DX = [1, 1, 0, -1, -1, -1, 0, 1];
const DY = [0, -1, -1, -1, 0, 1, 1, 1];

/**
 * Returns the outer borders of the 8-connected foreground (non-zero) components, in OpenCV's
 * output order: reverse of raster discovery order. Components inside another's hole are skipped.
 */
export function findExternalContours(mask: Uint8Array, width: number, height: number): Point[][] {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new ContourError(`invalid mask size ${width}×${height}`);
  }
  if (mask.length !== width * height) {
    throw new ContourError(`mask has ${mask.length} bytes, ${width}×${height} needs ${width * height}`);
  }
  // A one-pixel background frame lets border objects be traced without bounds checks, exactly as
  // OpenCV pads with copyMakeBorder before scanning.
  const stride = width + 2;
  const grid = new Uint8Array(stride * (height + 2));
  for (let y = 0; y < height; y++) {
    const src = y * width;
    const dst = (y + 1) * stride + 1;
    for (let x = 0; x < width; x++) if (mask[src + x] !== 0) grid[dst + x] = FG;
  }
  const d = [1, 1 - stride, -stride, -1 - stride, -1, stride - 1, stride, stride + 1];
  // Doubled so a neighbour search can run up to 8 codes past its start without wrapping.
  const deltas = Int32Array.from([...d, ...d]);

  const contours: Point[][] = [];
  for (let y = 1; y <= height; y++) {
    const row = y * stride;
    let prev = BG;
    // Suzuki–Abe's LNBD for external-only mode: whether the most recent border pixel met on this row
    // belongs to an outer border being crossed inwards. The frame column counts as outside.
    let inside = false;
    for (let x = 1; x <= width; x++) {
      let p = grid[row + x];
      if (p === prev) continue;
      if (prev === BG && p === FG && !inside) {
        contours.push(traceOuterBorder(grid, deltas, row + x, x - 1, y - 1));
        p = grid[row + x];
      }
      prev = p;
      if (p >= VISITED) inside = p === VISITED;
    }
  }
  return contours.reverse();
}

/**
 * Follows one outer border from its start pixel `i0` (image coords `x0`, `y0`), marking the grid and
 * returning the CHAIN_APPROX_SIMPLE points (one per change of step direction).
 */
function traceOuterBorder(grid: Uint8Array, deltas: Int32Array, i0: number, x0: number, y0: number): Point[] {
  // First neighbour clockwise from W: codes 3, 2, 1, 0, 7, 6, 5 (then 4, the known-background W).
  let s = 4;
  let i1: number;
  do {
    s = (s - 1) & 7;
    i1 = i0 + deltas[s];
  } while (grid[i1] === BG && s !== 4);
  if (s === 4) {
    grid[i0] = RIGHT_EDGE;
    return [[x0, y0]];
  }

  const points: Point[] = [];
  let x = x0;
  let y = y0;
  let i3 = i0;
  // Reference direction: the start pixel is emitted unless it continues straight on from i1.
  let prevS = s ^ 4;
  for (;;) {
    // Counter-clockwise from just past the direction we came from; the pixel we came from is
    // foreground, so the search ends within 8 steps.
    const sEnd = s;
    let i4: number;
    do {
      s++;
      i4 = i3 + deltas[s];
    } while (grid[i4] === BG && s < 15);
    s &= 7;

    // The search wrapped through code 0 (east) and found background there.
    if (s >= 1 && s <= sEnd) grid[i3] = RIGHT_EDGE;
    else if (grid[i3] === FG) grid[i3] = VISITED;

    if (s !== prevS) {
      points.push([x, y]);
      prevS = s;
    }
    x += DX[s];
    y += DY[s];

    // About to leave the first-found neighbour back onto the start: the border is closed.
    if (i4 === i0 && i3 === i1) break;
    i3 = i4;
    s = (s + 4) & 7;
  }
  return points;
}

/** OpenCV `contourArea` (unoriented): |shoelace| over the closed polygon, in double precision. */
export function contourArea(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n === 0) return 0;
  let a = 0;
  let [px, py] = points[n - 1];
  for (let i = 0; i < n; i++) {
    const [x, y] = points[i];
    a += px * y - py * x;
    px = x;
    py = y;
  }
  return Math.abs(a * 0.5);
}

/**
 * OpenCV `boundingRect` of a point set: `[minx, miny, maxx − minx + 1, maxy − miny + 1]`, i.e. the
 * inclusive pixel extent. Float coordinates are floored first; no points gives `[0, 0, 0, 0]`.
 */
export function boundingRect(
  points: ReadonlyArray<readonly [number, number]>,
): [number, number, number, number] {
  if (points.length === 0) return [0, 0, 0, 0];
  let minX = Number.POSITIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  for (const [x, y] of points) {
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const x0 = Math.floor(minX);
  const y0 = Math.floor(minY);
  return [x0, y0, Math.floor(maxX) - x0 + 1, Math.floor(maxY) - y0 + 1];
}
