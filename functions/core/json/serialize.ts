/**
 * JSON writers matching the reference converter's byte layout (docs/label-studio-behaviour.md#json-writers-and-ujson-escaping): ujson with
 * `indent=2` (escapes `/` as `\/`), Python's json module (compact with `", "` / `": "` or indented),
 * with or without ASCII escaping.
 */
import { pyJsonFloat, ujsonFloat } from './py-number.ts';
import { type JsonObject, type JsonValue, KEY_ORDER, keysOf, NumLit } from './value.ts';

export interface JsonStyle {
  /** Spaces per level; null for single-line output. */
  indent: number | null;
  /** Escape every non-ASCII character as `\uXXXX`. */
  ensureAscii: boolean;
  /** ujson escapes `/` as `\/`. */
  escapeSlash: boolean;
  /** Separators for single-line output: [item, key]. */
  separators: [string, string];
  /** How a float is printed. */
  float: (x: number) => string;
  /** Python's json escapes U+007F when ensure_ascii is on; ujson does not. */
  escapeDel: boolean;
}

/** ujson.dumps(indent=2, ensure_ascii=False) — JSON, JSON_MIN records. */
export const UJSON_PRETTY: JsonStyle = {
  indent: 2,
  ensureAscii: false,
  escapeSlash: true,
  separators: [',', ':'],
  float: ujsonFloat,
  escapeDel: false,
};
/** ujson.dumps(indent=2) — COCO result.json, YOLO notes.json. */
export const UJSON_PRETTY_ASCII: JsonStyle = { ...UJSON_PRETTY, ensureAscii: true };
/** ujson.dumps(ensure_ascii=False) compact — CSV cells holding objects and lists. */
export const UJSON_COMPACT: JsonStyle = { ...UJSON_PRETTY, indent: null };
/** json.dumps(obj) — ASR manifest lines, target-storage bodies. */
export const PY_JSON_COMPACT: JsonStyle = {
  indent: null,
  ensureAscii: true,
  escapeSlash: false,
  separators: [', ', ': '],
  float: pyJsonFloat,
  escapeDel: true,
};
/** json.dumps(obj, indent=2, ensure_ascii=False) — BRUSH_TO_COCO. */
export const PY_JSON_PRETTY: JsonStyle = {
  ...PY_JSON_COMPACT,
  indent: 2,
  ensureAscii: false,
  escapeDel: false,
};

const SHORT_ESCAPES: Record<number, string> = {
  34: '\\"',
  92: '\\\\',
  8: '\\b',
  12: '\\f',
  10: '\\n',
  13: '\\r',
  9: '\\t',
};

const hex4 = (c: number) => `\\u${c.toString(16).padStart(4, '0')}`;

const PLAIN_UNICODE = /^[^"\\\u0000-\u001f/]*$/;
const PLAIN_ASCII = /^[\u0020-\u007e]*$/;
/** A lone surrogate (a valid pair is one code point under the `u` flag, so it does not match). */
const LONE_SURROGATE = /\p{Cs}/u;
const NON_ASCII = /[^\u0000-\u007e]/;

export function quoteString(s: string, style: JsonStyle): string {
  if (style.ensureAscii) {
    if (
      PLAIN_ASCII.test(s) &&
      !s.includes('"') &&
      !s.includes('\\') &&
      !(style.escapeSlash && s.includes('/'))
    ) {
      return `"${s}"`;
    }
  } else if (PLAIN_UNICODE.test(s)) {
    return `"${s}"`;
  } else if (!style.escapeSlash && /^[^"\\\u0000-\u001f]*$/.test(s)) {
    return `"${s}"`;
  }
  // JSON.stringify escapes as the loop below does — `"`, `\`, the control characters (\b \f \n \r \t,
  // else lowercase \u00XX), nothing else — except lone surrogates, which it writes as \uXXXX; and
  // natively, several times faster than the loop for a string with many escapes (CSV's JSON cells).
  if (!(style.ensureAscii && NON_ASCII.test(s)) && !LONE_SURROGATE.test(s)) {
    const quoted = JSON.stringify(s);
    return style.escapeSlash && s.includes('/') ? quoted.replaceAll('/', '\\/') : quoted;
  }
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c < 0x20 || c === 0x22 || c === 0x5c) rep = SHORT_ESCAPES[c] ?? hex4(c);
    else if (c === 0x2f && style.escapeSlash) rep = '\\/';
    else if (style.ensureAscii && (c > 0x7e ? c !== 0x7f || style.escapeDel : false)) rep = hex4(c);
    if (rep !== undefined) {
      out += s.slice(from, i) + rep;
      from = i + 1;
    }
  }
  return `${out + s.slice(from)}"`;
}

export function formatNumber(v: number | NumLit, style: JsonStyle): string {
  if (v instanceof NumLit) return v.isFloat ? style.float(v.value) : v.raw;
  if (Number.isInteger(v)) return Object.is(v, -0) ? '0' : String(v);
  return style.float(v);
}

export function stringify(value: JsonValue, style: JsonStyle): string {
  if (nativeStyle(style) && nativeSafe(value)) {
    // V8's JSON.stringify lays the value out as `write` does for these styles; it differs only in
    // writing a lone surrogate as an escape (`\udXXX`: a string that holds `\ud` takes `write`,
    // whatever the reason) and in not escaping `/` (which only strings hold: escaped after).
    const out = style.indent === null ? JSON.stringify(value) : JSON.stringify(value, null, style.indent);
    if (!out.includes('\\ud'))
      return style.escapeSlash && out.includes('/') ? out.replaceAll('/', '\\/') : out;
  }
  return write(value, style, '');
}

/** `stringify` without the JSON.stringify way: every value written piece by piece (tests compare the two). */
export function stringifyByParts(value: JsonValue, style: JsonStyle): string {
  return write(value, style, '');
}

/**
 * Styles JSON.stringify can write: no ASCII escaping, `,` and `:` as compact separators (indented
 * output always uses `,` and `: `), floats printed as JS prints them in the range `nativeSafe` allows.
 */
function nativeStyle(style: JsonStyle): boolean {
  return (
    !style.ensureAscii &&
    (style.indent === null
      ? style.separators[0] === ',' && style.separators[1] === ':'
      : style.indent >= 1 && style.indent <= 10) &&
    (style.float === ujsonFloat || style.float === pyJsonFloat)
  );
}

/**
 * Whether JSON.stringify prints every number and object of `v` as `write` does: no NumLit (an
 * integral float or a big integer literal), no object with a recorded key order (integer-like
 * keys), every float finite and within 1e-4 ≤ |x| < 1e16 (where JS and Python print the same
 * digits without an exponent). Strings are checked on the output (see `stringify`).
 */
function nativeSafe(v: JsonValue): boolean {
  if (v === null) return true;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number': {
      if (Number.isInteger(v)) return true;
      const abs = v < 0 ? -v : v;
      return abs >= 1e-4 && abs < 1e16;
    }
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!nativeSafe(v[i])) return false;
    return true;
  }
  if (v instanceof NumLit || (v as JsonObject & { [KEY_ORDER]?: string[] })[KEY_ORDER] !== undefined)
    return false;
  for (const k in v) if (!nativeSafe((v as JsonObject)[k])) return false;
  return true;
}

function write(v: JsonValue, style: JsonStyle, pad: string): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return quoteString(v, style);
    case 'number':
      return formatNumber(v, style);
    case 'boolean':
      return v ? 'true' : 'false';
  }
  if (v instanceof NumLit) return formatNumber(v, style);
  const indent = style.indent;
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (indent === null) {
      let out = '[';
      for (let i = 0; i < v.length; i++) out += (i ? style.separators[0] : '') + write(v[i], style, pad);
      return `${out}]`;
    }
    const inner = pad + ' '.repeat(indent);
    let out = '[';
    for (let i = 0; i < v.length; i++) out += `${i ? ',' : ''}\n${inner}${write(v[i], style, inner)}`;
    return `${out}\n${pad}]`;
  }
  const keys = keysOf(v);
  if (keys.length === 0) return '{}';
  if (indent === null) {
    let out = '{';
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      out += `${i ? style.separators[0] : ''}${quoteString(k, style)}${style.separators[1]}${write(v[k], style, pad)}`;
    }
    return `${out}}`;
  }
  const inner = pad + ' '.repeat(indent);
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    out += `${i ? ',' : ''}\n${inner}${quoteString(k, style)}: ${write(v[k], style, inner)}`;
  }
  return `${out}\n${pad}}`;
}

/** Marks a computed number as a Python float, so `100` prints as `100.0`. */
export function pyFloat(x: number): number | NumLit {
  return Number.isInteger(x) ? NumLit.float(x) : x;
}
