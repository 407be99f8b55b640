/** Reading region values (result.value + type + original sizes) for the image formats. */
import type { Item } from '../items.ts';
import { type JsonObject, type JsonValue, num } from '../json/value.ts';

export const hasKey = (v: JsonObject, k: string): boolean => Object.hasOwn(v, k);

/** A finite number at `k`, or undefined (missing, null, a string…). */
export function numberAt(v: JsonObject, k: string): number | undefined {
  const n = hasKey(v, k) ? num(v[k]) : undefined;
  return n !== undefined && Number.isFinite(n) ? n : undefined;
}

/** An image size value that can scale coordinates: a finite number > 0. */
const isPositiveSize = (v: JsonValue | undefined): boolean => {
  const n = num(v);
  return n !== undefined && Number.isFinite(n) && n > 0;
};

/** The region's own `original_width`/`original_height` when both are usable, as written (int or float literal). */
export function originalSize(v: JsonObject): { width: JsonValue; height: JsonValue } | undefined {
  if (!hasKey(v, 'original_width') || !hasKey(v, 'original_height')) return undefined;
  if (!isPositiveSize(v.original_width) || !isPositiveSize(v.original_height)) return undefined;
  return { width: v.original_width, height: v.original_height };
}

/** Why a region's original size is unusable, for the report. */
export function originalSizeProblem(v: JsonObject): string | undefined {
  if (!hasKey(v, 'original_width') || !hasKey(v, 'original_height'))
    return 'has no original_width/original_height';
  if (!isPositiveSize(v.original_width) || !isPositiveSize(v.original_height)) {
    return `has an unusable image size ${JSON.stringify(num(v.original_width) ?? v.original_width)}×${JSON.stringify(num(v.original_height) ?? v.original_height)}`;
  }
  return undefined;
}

/** All values of an item: from_name order, then result order. */
export function itemValues(item: Item): JsonObject[] {
  const out: JsonObject[] = [];
  for (const values of item.output.values()) for (const v of values) out.push(v);
  return out;
}

/** A non-empty list at `k` (the reference's `k in v and len(v[k]) > 0`, lists only). */
export function nonEmptyList(v: JsonObject, k: string): JsonValue[] | undefined {
  const list = hasKey(v, k) ? v[k] : undefined;
  return Array.isArray(list) && list.length > 0 ? list : undefined;
}

/** Polygon points as number pairs, or undefined when any point is not a pair of numbers. */
export function pointsOf(v: JsonObject): Array<[number, number]> | undefined {
  const points = v.points;
  if (!Array.isArray(points)) return undefined;
  const out: Array<[number, number]> = [];
  for (const p of points) {
    if (!Array.isArray(p) || p.length !== 2) return undefined;
    const x = num(p[0]);
    const y = num(p[1]);
    if (x === undefined || y === undefined || !Number.isFinite(x) || !Number.isFinite(y)) return undefined;
    out.push([x, y]);
  }
  return out;
}

/** `str(datetime.now())`: local time, microseconds only when non-zero. */
export function pyDateTimeStr(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const base = `${p(d.getFullYear(), 4)}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  const ms = d.getMilliseconds();
  return ms === 0 ? base : `${base}.${p(ms, 3)}000`;
}

/** Indents serialized JSON (no raw newlines inside strings) to sit `pad` deep in a parent. */
export const indentJson = (text: string, pad: string): string => text.replace(/\n/g, `\n${pad}`);
