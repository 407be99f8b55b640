/**
 * Incremental splitting of a JSON document into its top-level values, without parsing them: a
 * Label Studio export is one huge array, and we want one task in memory at a time.
 *
 * The scanner tracks strings and bracket depth, and on the way notes whether an element holds
 * anything a plain JSON.parse would lose (an integral float literal like `2.0`, a 16+ digit
 * integer, an array-index-like key), so the caller can use the native parser for the rest.
 *
 * It also enforces the input limits (limits.ts): an element nested deeper than `maxDepth` or larger
 * than `maxElementBytes` (UTF-8) is not buffered past the point where the limit is crossed; the scan
 * goes on to the element's end and yields an `invalid` event with the reason instead of the text.
 * Elements yielded as `element` are therefore within both limits (their depth is checked).
 */

import { depthReason, type JsonLimits, MAX_ELEMENT_BYTES, MAX_JSON_DEPTH, sizeReason } from './limits.ts';
import { boundedChunks, PieceDecoder } from './utf8-pieces.ts';

export type RootKind = 'array' | 'object' | 'empty' | 'other';

export type SplitEvent =
  | { type: 'root'; kind: RootKind; firstChar?: string; bom?: boolean }
  | { type: 'element'; index: number; text: string; exact?: boolean }
  | { type: 'truncated'; index: number; reason: string }
  /** An element over a limit (too deep, too large): skipped whole, its text never assembled. */
  | { type: 'invalid'; index: number; reason: string }
  /** Something other than whitespace after the root value (JSON Lines, two arrays): not read. */
  | { type: 'trailing'; index: number };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Whether `s` holds anything but whitespace from `from` on. */
function hasContent(s: string, from: number): boolean {
  for (let k = from; k < s.length; k++) if (!isWs(s.charCodeAt(k))) return true;
  return false;
}
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isNumberChar = (c: number) =>
  isDigit(c) || c === 0x2e || c === 0x2d || c === 0x2b || c === 0x65 || c === 0x45;

/**
 * The end of the number literal starting at `start` (a digit or `-`), or its bitwise complement
 * (`~end`, negative) when a JS number would lose information: an exponent (may be an integral
 * float), 16+ integer digits, an all-zero fraction (`2.0`), or a literal cut by the chunk's end.
 */
function scanNumber(s: string, start: number, n: number): number {
  let intDigits = s.charCodeAt(start) === 0x2d ? 0 : 1;
  let dot = false;
  let fracNonZero = false;
  let exponent = false;
  let j = start + 1;
  for (; j < n; j++) {
    const d = s.charCodeAt(j);
    if (d >= 0x30 && d <= 0x39) {
      if (!dot) intDigits++;
      else if (d !== 0x30) fracNonZero = true;
    } else if (d === 0x2e) dot = true;
    else if (d === 0x65 || d === 0x45) exponent = true;
    else if (d !== 0x2b && d !== 0x2d) break;
  }
  return j === n || exponent || intDigits >= 16 || (dot && !fracNonZero) ? ~j : j;
}

/** True for a short all-digit string key (JS objects would reorder it). */
function isIndexLike(s: string, start: number, end: number): boolean {
  const len = end - start;
  if (len < 1 || len > 10) return false;
  for (let k = start; k < end; k++) if (!isDigit(s.charCodeAt(k))) return false;
  return true;
}

export interface SplitOptions {
  /**
   * Keys of each element's top level (a task's `predictions`, `drafts`) whose value, when it is an
   * array, is replaced by `[]` in the element's text instead of being buffered and parsed. Only for
   * readers whose formats never read those keys. A skipped value is scanned (depth limit) but not
   * checked for JSON syntax, and does not count towards the element's size limit. A key cut by a
   * chunk boundary is kept as it is (correct, just not faster).
   */
  skipKeys?: ReadonlySet<string>;
}

/** The splitter's state between pieces of input. */
interface SplitState {
  readonly skipKeys: ReadonlySet<string> | undefined;
  /** Length of the longest skipped key: longer strings are not compared. */
  readonly skipKeyMax: number;
  readonly maxDepth: number;
  readonly maxBytes: number;
  /** The root is an array (else an object). */
  arrayRoot: boolean;
  depth: number; // bracket depth inside the current element
  inString: boolean;
  escaped: boolean;
  scalar: boolean; // the current element is a bare scalar
  inElement: boolean;
  exact: boolean;
  /** A skipped key just closed: its value is skipped if it is an array. */
  pendingSkip: boolean;
  /** Inside a skipped array value (its brackets still counted for the depth limit). */
  skipping: boolean;
  /** Why the current element is skipped (over a limit); its parts are no longer kept. */
  invalid: string | undefined;
  /** UTF-16 units of the current element's parts so far. */
  units: number;
  /** Their exact UTF-8 size, counted only once it may pass the limit (a unit is 1 to 3 bytes). */
  bytes: number;
  parts: string[];
  index: number;
  closed: boolean;
  /** Content after the root value was found (reported once). */
  trailing: boolean;
}

/** Keeps a piece of the current element, unless a limit already dropped it. */
function keep(st: SplitState, piece: string): void {
  if (st.invalid !== undefined) return;
  st.units += piece.length;
  if (st.bytes >= 0) st.bytes += Buffer.byteLength(piece, 'utf8');
  else if (st.units * 3 > st.maxBytes) {
    let bytes = Buffer.byteLength(piece, 'utf8');
    for (const p of st.parts) bytes += Buffer.byteLength(p, 'utf8');
    st.bytes = bytes;
  }
  if (st.bytes > st.maxBytes) drop(st, sizeReason(st.maxBytes));
  else st.parts.push(piece);
}

function drop(st: SplitState, reason: string): void {
  st.invalid = reason;
  st.parts = [];
}

/** The event of the element that ends with `last` (its final piece); resets the element's parts. */
function emit(st: SplitState, last: string, exact: boolean): SplitEvent {
  if (st.invalid === undefined) keep(st, last);
  let ev: SplitEvent;
  if (st.invalid !== undefined) ev = { type: 'invalid', index: st.index++, reason: st.invalid };
  else {
    const parts = st.parts;
    const text = parts.length === 1 ? parts[0] : parts.join('');
    ev = exact
      ? { type: 'element', index: st.index++, text, exact }
      : { type: 'element', index: st.index++, text };
  }
  st.parts = [];
  st.units = 0;
  st.bytes = -1;
  st.invalid = undefined;
  return ev;
}

/**
 * Scans `s` (one decoded piece of input, after the root's opening) from `i`, appending the events
 * it completes to `out`. A plain function over local copies of the state, not the generator
 * itself: V8 keeps the hot flags in registers then, instead of the generator's context.
 */
function scanPiece(st: SplitState, s: string, i: number, out: SplitEvent[]): void {
  const n = s.length;
  const skipKeys = st.skipKeys;
  const skipKeyMax = st.skipKeyMax;
  const arrayRoot = st.arrayRoot;
  let depth = st.depth;
  let inString = st.inString;
  let escaped = st.escaped;
  let scalar = st.scalar;
  let inElement = st.inElement;
  let exact = st.exact;
  let pendingSkip = st.pendingSkip;
  let skipping = st.skipping;
  /** A string opened at the element's top level, in this piece at `keyOpen` (else -1). */
  let keyOpen = -1;
  let start = inElement && !skipping ? 0 : -1;
  while (i < n) {
    if (inString) {
      if (escaped) {
        escaped = false;
        i++;
        continue;
      }
      const q = s.indexOf('"', i);
      if (q < 0) {
        let b = 0;
        for (let k = n - 1; k >= i && s.charCodeAt(k) === BACKSLASH; k--) b++;
        escaped = b % 2 === 1;
        i = n;
        break;
      }
      let b = 0;
      for (let k = q - 1; k >= i && s.charCodeAt(k) === BACKSLASH; k--) b++;
      const stringStart = i;
      i = q + 1;
      if (b % 2 !== 0) continue;
      inString = false;
      if (scalar && depth === 0) {
        out.push(emit(st, s.slice(start, i), exact));
        inElement = scalar = exact = pendingSkip = skipping = false;
        start = keyOpen = -1;
        continue;
      }
      if (keyOpen >= 0) {
        // A top-level string of an object element: a key when a ':' follows (checked at the '[').
        if (q - keyOpen - 1 <= skipKeyMax && skipKeys!.has(s.slice(keyOpen + 1, q))) pendingSkip = true;
        keyOpen = -1;
      }
      // A short digit-only string followed by ':' is an index-like key.
      if (!exact && !skipping && isIndexLike(s, stringStart, q)) {
        let k = i;
        while (k < n && isWs(s.charCodeAt(k))) k++;
        if (k === n || s.charCodeAt(k) === COLON) exact = true;
      }
      continue;
    }
    const c = s.charCodeAt(i);
    if (!inElement) {
      if (isWs(c) || (c === 0x2c && arrayRoot)) {
        i++;
        continue;
      }
      if ((c === 0x5d && arrayRoot) || (!arrayRoot && st.index > 0)) {
        // After the root value only whitespace may follow (Python's json.load fails on more;
        // JSON Lines in a .json file would otherwise lose every line but the first, silently).
        st.closed = true;
        if (!arrayRoot || hasContent(s, i + 1)) {
          st.trailing = true;
          out.push({ type: 'trailing', index: st.index });
        }
        break;
      }
      inElement = true;
      start = i;
      if (c === 0x7b || c === 0x5b) depth = 1;
      else {
        scalar = true;
        if (c === QUOTE) inString = true;
      }
      i++;
      continue;
    }
    if (scalar) {
      if (c === 0x2c || c === 0x5d || isWs(c)) {
        out.push(emit(st, s.slice(start, i), exact));
        inElement = scalar = exact = pendingSkip = skipping = false;
        start = keyOpen = -1;
        continue;
      }
      i++;
      continue;
    }
    if (pendingSkip && c !== 0x5b && c !== COLON && !isWs(c)) pendingSkip = false;
    if (c === QUOTE) {
      inString = true;
      if (skipKeys && depth === 1) keyOpen = i;
      // Fast path: most strings close in this piece; the branch above jumps there with indexOf.
      i++;
    } else if (isDigit(c) || c === 0x2d) {
      let j = i + 1;
      if (exact || skipping) while (j < n && isNumberChar(s.charCodeAt(j))) j++;
      else {
        const r = scanNumber(s, i, n);
        if (r < 0) exact = true;
        j = r < 0 ? ~r : r;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      if (pendingSkip && depth === 1) {
        // The value of a skipped key: `[]` in its place; scanning goes on to its closing bracket.
        pendingSkip = false;
        if (st.invalid === undefined) {
          keep(st, s.slice(start, i));
          keep(st, '[]');
        }
        skipping = true;
        start = -1;
      }
      depth++;
      if (depth > st.maxDepth && st.invalid === undefined) drop(st, depthReason(st.maxDepth));
      i++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      i++;
      if (skipping && depth === 1) {
        skipping = false;
        start = i;
      }
      if (depth === 0) {
        out.push(emit(st, s.slice(start, i), exact));
        inElement = scalar = exact = pendingSkip = skipping = false;
        start = keyOpen = -1;
      }
    } else {
      i++;
    }
  }
  if (inElement && start >= 0 && st.invalid === undefined) keep(st, s.slice(start, n));
  st.depth = depth;
  st.inString = inString;
  st.escaped = escaped;
  st.scalar = scalar;
  st.inElement = inElement;
  st.exact = exact;
  st.pendingSkip = pendingSkip;
  st.skipping = skipping;
}

/**
 * Yields the root kind, then each element of a root array (or the single root object) — or an
 * `invalid` event for one over `limits` — then a `truncated` event if the document ends inside an
 * element or before the closing bracket.
 */
export async function* splitJsonDocument(
  chunks: AsyncIterable<Uint8Array | string>,
  limits: JsonLimits = {},
  options: SplitOptions = {},
): AsyncGenerator<SplitEvent> {
  const skipKeys = options.skipKeys?.size ? options.skipKeys : undefined;
  let skipKeyMax = 0;
  for (const k of skipKeys ?? []) skipKeyMax = Math.max(skipKeyMax, k.length);
  const st: SplitState = {
    skipKeys,
    skipKeyMax,
    maxDepth: limits.maxDepth ?? MAX_JSON_DEPTH,
    maxBytes: limits.maxElementBytes ?? MAX_ELEMENT_BYTES,
    arrayRoot: false,
    depth: 0,
    inString: false,
    escaped: false,
    scalar: false,
    inElement: false,
    exact: false,
    pendingSkip: false,
    skipping: false,
    invalid: undefined,
    units: 0,
    bytes: -1,
    parts: [],
    index: 0,
    closed: false,
    trailing: false,
  };
  const decoder = new PieceDecoder();
  let root: RootKind | undefined;
  let bom = false;
  /** The events of one piece, yielded once it is scanned. */
  const events: SplitEvent[] = [];

  for await (const chunk of boundedChunks(chunks)) {
    const s = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    const n = s.length;
    let i = 0;
    if (root === undefined) {
      // A UTF-8 byte order mark is skipped (the reference silently ignores such files; we read them).
      if (!bom && n > 0 && s.charCodeAt(0) === 0xfeff) {
        bom = true;
        i++;
      }
      while (i < n && isWs(s.charCodeAt(i))) i++;
      if (i === n) continue;
      const c = s[i];
      if (c === '[') {
        root = 'array';
        i++;
      } else if (c === '{') {
        root = 'object';
      } else {
        yield { type: 'root', kind: 'other', firstChar: c };
        return;
      }
      st.arrayRoot = root === 'array';
      yield bom ? { type: 'root', kind: root, bom } : { type: 'root', kind: root };
    }
    if (st.closed) {
      if (!st.trailing && hasContent(s, 0)) {
        st.trailing = true;
        yield { type: 'trailing', index: st.index };
      }
      continue;
    }
    scanPiece(st, s, i, events);
    for (let e = 0; e < events.length; e++) yield events[e];
    events.length = 0;
  }
  const tail = decoder.end();
  if (tail && st.inElement && st.invalid === undefined) st.parts.push(tail);
  if (root === undefined) {
    yield { type: 'root', kind: 'empty' };
    return;
  }
  if (st.inElement) {
    if (st.scalar && !st.inString) {
      yield st.invalid !== undefined
        ? { type: 'invalid', index: st.index++, reason: st.invalid }
        : { type: 'element', index: st.index++, text: st.parts.join('') };
      if (root === 'array') yield { type: 'truncated', index: st.index, reason: 'the array is not closed' };
    } else {
      yield { type: 'truncated', index: st.index, reason: 'the document ends inside this element' };
    }
  } else if (root === 'array' && !st.closed) {
    yield { type: 'truncated', index: st.index, reason: 'the array is not closed' };
  }
}
