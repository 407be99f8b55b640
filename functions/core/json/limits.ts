/**
 * Limits on JSON input that keep one bad task from failing a run.
 *
 * - Depth: the serializers, flatteners and the exact parser recurse once per nesting level, and a
 *   few thousand levels overflow V8's stack (a `RangeError` outside any per-task handler). Label
 *   Studio objects nest fewer than 15 levels (task → annotations → result → value → points → pair),
 *   so every parser path refuses values nested deeper than MAX_JSON_DEPTH, counted from the task
 *   (or storage object, or JSON Lines line) itself as level 1.
 * - Size: one element of a JSON export larger than MAX_ELEMENT_BYTES is skipped by the splitter
 *   without being buffered (V8 strings stop at about 512 M characters).
 */

/** Deepest nesting accepted: objects and arrays inside each other, the outermost counting as 1. */
export const MAX_JSON_DEPTH = 1000;

/** Largest top-level element (one task) of a JSON export, and largest JSON Lines line, in UTF-8 bytes. */
export const MAX_ELEMENT_BYTES = 256 * 1024 * 1024;

/** Parser limits; each defaults to the constant above. */
export interface JsonLimits {
  maxDepth?: number;
  maxElementBytes?: number;
}

/** The report reason for a value nested too deep (the same text on every parser path). */
export const depthReason = (maxDepth: number): string => `nested deeper than ${maxDepth} levels`;

/** The report reason for an element above the size limit. */
export const sizeReason = (maxBytes: number): string => `element larger than ${maxBytes} bytes`;

/** A JSON text nested deeper than the limit; the message is the report reason. */
export class JsonDepthError extends Error {
  override name = 'JsonDepthError';
  constructor(readonly maxDepth: number) {
    super(depthReason(maxDepth));
  }
}

/** Occurrences of `ch` in `s`, counting stops at `limit`. */
function countUpTo(s: string, ch: string, limit: number): number {
  let count = 0;
  for (let i = s.indexOf(ch); i >= 0 && count < limit; i = s.indexOf(ch, i + 1)) count++;
  return count;
}

/**
 * Whether a JSON text nests objects/arrays deeper than `maxDepth` (brackets inside strings do not
 * count). A linear scan without allocation, meant to run before a parser that would accept the
 * text; it does not validate the syntax (the parser does).
 */
export function exceedsDepth(s: string, maxDepth: number): boolean {
  const n = s.length;
  if (n <= maxDepth) return false; // maxDepth + 1 levels need that many opening brackets
  // Fast path (typical tasks have a few hundred brackets): count them with native searches.
  if (countUpTo(s, '[', maxDepth + 1) + countUpTo(s, '{', maxDepth + 1) <= maxDepth) return false;
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) {
      // Jump to the closing quote: the first one not escaped by an odd run of backslashes.
      for (;;) {
        const q = s.indexOf('"', i + 1);
        if (q < 0) return false; // unterminated string: the parser reports it
        let b = 0;
        for (let k = q - 1; s.charCodeAt(k) === 0x5c; k--) b++;
        i = q;
        if (b % 2 === 0) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}
