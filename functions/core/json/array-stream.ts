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
import { StringDecoder } from 'node:string_decoder';
import { depthReason, type JsonLimits, MAX_ELEMENT_BYTES, MAX_JSON_DEPTH, sizeReason } from './limits.ts';

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

/**
 * Longest piece of input decoded at once (bytes). Readers hand over chunks of up to 1 MiB; decoded
 * whole, each becomes a 1 MiB string, which V8 puts in its large-object space, freed only by a full
 * (mark-compact) collection — so peak RSS rose with the run's length (the floor at 100,000 image
 * tasks: 34 MiB of large objects at the end, 4 at the start). Pieces of 64 KiB stay in the young
 * generation and die there. An element or literal cut by a piece's end is handled as one cut by a
 * chunk's end (the exact parser for a cut number: same values, a little slower).
 */
export const DECODE_PIECE_BYTES = 64 * 1024;

/** `chunks` with every byte chunk longer than `maxBytes` cut into pieces (strings pass as they are). */
export async function* boundedChunks(
  chunks: AsyncIterable<Uint8Array | string>,
  maxBytes = DECODE_PIECE_BYTES,
): AsyncGenerator<Uint8Array | string> {
  for await (const chunk of chunks) {
    if (typeof chunk === 'string' || chunk.length <= maxBytes) yield chunk;
    else for (let off = 0; off < chunk.length; off += maxBytes) yield chunk.subarray(off, off + maxBytes);
  }
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
  /** Length of the longest skipped key: longer strings are not compared. */
  let skipKeyMax = 0;
  for (const k of skipKeys ?? []) skipKeyMax = Math.max(skipKeyMax, k.length);
  /** A string opened at the element's top level, in this chunk at `keyOpen` (else -1). */
  let keyOpen = -1;
  /** A skipped key just closed: its value is skipped if it is an array. */
  let pendingSkip = false;
  /** Inside a skipped array value (its brackets still counted for the depth limit). */
  let skipping = false;
  const maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH;
  const maxBytes = limits.maxElementBytes ?? MAX_ELEMENT_BYTES;
  const decoder = new StringDecoder('utf8');
  let root: RootKind | undefined;
  let bom = false;
  let depth = 0; // bracket depth inside the current element
  let inString = false;
  let escaped = false;
  let scalar = false; // the current element is a bare scalar
  let inElement = false;
  let exact = false;
  /** Why the current element is skipped (over a limit); its parts are no longer kept. */
  let invalid: string | undefined;
  /** UTF-16 units of the current element's parts so far. */
  let units = 0;
  /** Their exact UTF-8 size, counted only once it may pass the limit (a unit is 1 to 3 bytes). */
  let bytes = -1;
  let parts: string[] = [];
  let index = 0;
  let closed = false;
  /** Content after the root value was found (reported once). */
  let trailing = false;

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
      yield bom ? { type: 'root', kind: root, bom } : { type: 'root', kind: root };
    }
    if (closed) {
      if (!trailing && hasContent(s, 0)) {
        trailing = true;
        yield { type: 'trailing', index };
      }
      continue;
    }
    let start = inElement && !skipping ? 0 : -1;
    keyOpen = -1;
    /** Keeps a piece of the current element, unless a limit already dropped it. */
    const keep = (piece: string): void => {
      if (invalid !== undefined) return;
      units += piece.length;
      if (bytes >= 0) bytes += Buffer.byteLength(piece, 'utf8');
      else if (units * 3 > maxBytes) {
        bytes = Buffer.byteLength(piece, 'utf8');
        for (const p of parts) bytes += Buffer.byteLength(p, 'utf8');
      }
      if (bytes > maxBytes) drop(sizeReason(maxBytes));
      else parts.push(piece);
    };
    const drop = (reason: string): void => {
      invalid = reason;
      parts = [];
    };
    const emit = (end: number): SplitEvent => {
      if (invalid === undefined) keep(s.slice(start, end));
      let ev: SplitEvent;
      if (invalid !== undefined) ev = { type: 'invalid', index: index++, reason: invalid };
      else {
        const text = parts.length === 1 ? parts[0] : parts.join('');
        ev = exact
          ? { type: 'element', index: index++, text, exact }
          : { type: 'element', index: index++, text };
      }
      parts = [];
      units = 0;
      bytes = -1;
      invalid = undefined;
      inElement = false;
      scalar = false;
      exact = false;
      start = -1;
      keyOpen = -1;
      pendingSkip = false;
      skipping = false;
      return ev;
    };
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
          yield emit(i);
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
        if (isWs(c) || (c === 0x2c && root === 'array')) {
          i++;
          continue;
        }
        if ((c === 0x5d && root === 'array') || (root === 'object' && index > 0)) {
          // After the root value only whitespace may follow (Python's json.load fails on more;
          // JSON Lines in a .json file would otherwise lose every line but the first, silently).
          closed = true;
          if (root === 'object' || hasContent(s, i + 1)) {
            trailing = true;
            yield { type: 'trailing', index };
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
          yield emit(i);
          continue;
        }
        i++;
        continue;
      }
      if (pendingSkip && c !== 0x5b && c !== COLON && !isWs(c)) pendingSkip = false;
      if (c === QUOTE) {
        inString = true;
        if (skipKeys && depth === 1) keyOpen = i;
        // Fast path: most strings close in this chunk; the loop above jumps there with indexOf.
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
          if (invalid === undefined) {
            keep(s.slice(start, i));
            keep('[]');
          }
          skipping = true;
          start = -1;
        }
        depth++;
        if (depth > maxDepth && invalid === undefined) drop(depthReason(maxDepth));
        i++;
      } else if (c === 0x7d || c === 0x5d) {
        depth--;
        i++;
        if (skipping && depth === 1) {
          skipping = false;
          start = i;
        }
        if (depth === 0) yield emit(i);
      } else {
        i++;
      }
    }
    if (inElement && start >= 0 && invalid === undefined) keep(s.slice(start, n));
  }
  const tail = decoder.end();
  if (tail && inElement && invalid === undefined) parts.push(tail);
  if (root === undefined) {
    yield { type: 'root', kind: 'empty' };
    return;
  }
  if (inElement) {
    if (scalar && !inString) {
      yield invalid !== undefined
        ? { type: 'invalid', index: index++, reason: invalid }
        : { type: 'element', index: index++, text: parts.join('') };
      if (root === 'array') yield { type: 'truncated', index, reason: 'the array is not closed' };
    } else {
      yield { type: 'truncated', index, reason: 'the document ends inside this element' };
    }
  } else if (root === 'array' && !closed) {
    yield { type: 'truncated', index, reason: 'the array is not closed' };
  }
}
