/**
 * The JSON value model of the core.
 *
 * Label Studio's converter is Python: it keeps `2.0` apart from `2`, keeps every object key in
 * insertion order (JS puts integer-like keys first) and keeps integers of any size. We keep the same
 * facts without a heavy wrapper type: plain JS values, plus
 *  - `NumLit` for the two number literals a JS number cannot carry faithfully: integral floats
 *    (`2.0`, `1e5`) and integers beyond 2^53;
 *  - a hidden key list (`KEY_ORDER`) on the rare objects whose keys a JS object would reorder.
 */

export type JsonPrimitive = null | boolean | number | string | NumLit;
export type JsonArray = JsonValue[];
export interface JsonObject {
  [key: string]: JsonValue;
}
export type JsonValue = JsonPrimitive | JsonArray | JsonObject;

/** A number literal that a JS number would misprint: an integral float, or an unsafe integer. */
export class NumLit {
  constructor(
    readonly value: number,
    /** true for float literals (`2.0`, `1e5`), false for integers too large for a double. */
    readonly isFloat: boolean,
    /** The literal as written, used to re-emit unsafe integers exactly. */
    readonly raw: string,
  ) {}
  valueOf(): number {
    return this.value;
  }
  static float(value: number): NumLit {
    return new NumLit(value, true, String(value));
  }
}

/** Insertion order of keys, stored only on objects whose keys a JS object would reorder. */
export const KEY_ORDER: unique symbol = Symbol('ls-export.keyOrder');

type Ordered = JsonObject & { [KEY_ORDER]?: string[] };

const isDigitStart = (key: string) => {
  const c = key.charCodeAt(0);
  return c >= 0x30 && c <= 0x39;
};

export const isArrayIndexKey = (key: string): boolean =>
  /^(?:0|[1-9]\d{0,9})$/.test(key) && Number(key) < 4294967295;

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof NumLit);
}

/** Keys of an object in the order they were written. */
export function keysOf(obj: JsonObject): string[] {
  return (obj as Ordered)[KEY_ORDER] ?? Object.keys(obj);
}

/** Sets a key, appending it to the insertion order if it is new (Python dict semantics). */
export function setKey(obj: JsonObject, key: string, value: JsonValue): void {
  const order = (obj as Ordered)[KEY_ORDER];
  // Fast path: a key that is not index-like on an object without a recorded order.
  if (!order && key !== '__proto__' && !isDigitStart(key)) {
    obj[key] = value;
    return;
  }
  const isNew = !Object.hasOwn(obj, key);
  if (isNew && !order && isArrayIndexKey(key)) {
    Object.defineProperty(obj, KEY_ORDER, {
      value: [...Object.keys(obj), key],
      enumerable: false,
      writable: true,
    });
  } else if (isNew && order) {
    order.push(key);
  }
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/** Deletes a key and its place in the insertion order. */
export function deleteKey(obj: JsonObject, key: string): void {
  const order = (obj as Ordered)[KEY_ORDER];
  if (order) {
    const i = order.indexOf(key);
    if (i >= 0) order.splice(i, 1);
  }
  delete obj[key];
}

/** Deep copy preserving key order and number literals. */
export function deepCopy<T extends JsonValue>(v: T): T {
  if (typeof v !== 'object' || v === null || v instanceof NumLit) return v;
  if (Array.isArray(v)) return v.map(deepCopy) as T;
  const out: JsonObject = {};
  const order = (v as Ordered)[KEY_ORDER];
  if (order) {
    for (const k of order) setKey(out, k, deepCopy((v as JsonObject)[k]));
  } else {
    // `__proto__` (a key like any other in Python) through setKey: assigned, it would set the prototype.
    for (const k in v as JsonObject)
      if (k === '__proto__') setKey(out, k, deepCopy((v as JsonObject)[k]));
      else out[k] = deepCopy((v as JsonObject)[k]);
  }
  return out as T;
}

/** The numeric value of a JSON number (plain or literal), or undefined for anything else. */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof NumLit) return v.value;
  return undefined;
}

/** Python truthiness of a JSON value. */
export function truthy(v: JsonValue | undefined): boolean {
  if (v === null || v === undefined || v === false || v === '' || v === 0) return false;
  if (v instanceof NumLit) return v.value !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isJsonObject(v)) return keysOf(v).length > 0;
  return true;
}
