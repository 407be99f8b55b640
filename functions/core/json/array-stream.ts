/**
 * Incremental splitting of a JSON document into its top-level values, without parsing them: a
 * Label Studio export is one huge array, and we want one task in memory at a time.
 *
 * The scanner only tracks strings and bracket depth. Each element's text is handed to the caller,
 * who parses it (and can report a malformed element by index while the rest go on).
 */
import { StringDecoder } from 'node:string_decoder';

export type RootKind = 'array' | 'object' | 'empty' | 'other';

export type SplitEvent =
  | { type: 'root'; kind: RootKind; firstChar?: string; bom?: boolean }
  | { type: 'element'; index: number; text: string }
  | { type: 'truncated'; index: number; reason: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * Yields the root kind, then each element of a root array (or the single root object), then a
 * `truncated` event if the document ends inside an element or before the closing bracket.
 */
export async function* splitJsonDocument(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<SplitEvent> {
  const decoder = new StringDecoder('utf8');
  let root: RootKind | undefined;
  let depth = 0; // depth inside the current element (0 = between elements)
  let inString = false;
  let escape = false;
  let scalar = false; // current element is a bare scalar (ends at ',' / ']' / whitespace)
  let parts: string[] = [];
  let index = 0;
  let closed = false;
  let inElement = false;
  let bom = false;

  const decode = (chunk: Uint8Array | string) => (typeof chunk === 'string' ? chunk : decoder.write(chunk));

  for await (const chunk of chunks) {
    const s = decode(chunk);
    let i = 0;
    const n = s.length;
    if (root === undefined) {
      // A UTF-8 byte order mark is skipped (the reference silently ignores such files; we read them).
      if (!bom && i < n && s.charCodeAt(0) === 0xfeff) {
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
        root = 'other';
        yield { type: 'root', kind: 'other', firstChar: c };
        return;
      }
      yield bom ? { type: 'root', kind: root, bom } : { type: 'root', kind: root };
    }
    if (closed) continue;
    let start = inElement ? 0 : -1;
    while (i < n) {
      if (inString) {
        // Jump to the next quote; count the backslashes before it to know if it is escaped.
        if (escape) {
          escape = false;
          i++;
          continue;
        }
        const q = s.indexOf('"', i);
        if (q < 0) {
          // String continues in the next chunk; remember a trailing unpaired backslash.
          let b = 0;
          for (let k = n - 1; k >= i && s.charCodeAt(k) === BACKSLASH; k--) b++;
          escape = b % 2 === 1;
          i = n;
          break;
        }
        let b = 0;
        for (let k = q - 1; k >= i && s.charCodeAt(k) === BACKSLASH; k--) b++;
        i = q + 1;
        if (b % 2 === 0) {
          inString = false;
          if (scalar && depth === 0) {
            // a bare string element ends with its closing quote
            parts.push(s.slice(start, i));
            yield { type: 'element', index: index++, text: parts.join('') };
            parts = [];
            inElement = false;
            scalar = false;
            start = -1;
          }
        }
        continue;
      }
      const c = s.charCodeAt(i);
      if (!inElement) {
        if (isWs(c) || (c === 0x2c && root === 'array')) {
          i++;
          continue;
        }
        if (c === 0x5d && root === 'array') {
          closed = true;
          break;
        }
        if (root === 'object' && index > 0) {
          closed = true; // data after the root object is ignored, as a JSON reader stops there
          break;
        }
        inElement = true;
        start = i;
        if (c === 0x7b || c === 0x5b) {
          depth = 1;
          i++;
        } else if (c === QUOTE) {
          scalar = true;
          inString = true;
          i++;
        } else {
          scalar = true;
          i++;
        }
        continue;
      }
      if (scalar) {
        if (c === 0x2c || c === 0x5d || isWs(c)) {
          parts.push(s.slice(start, i));
          yield { type: 'element', index: index++, text: parts.join('') };
          parts = [];
          inElement = false;
          scalar = false;
          start = -1;
          continue; // the ',' or ']' is handled between elements
        }
        i++;
        continue;
      }
      if (c === QUOTE) inString = true;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        depth--;
        if (depth === 0) {
          parts.push(s.slice(start, i + 1));
          yield { type: 'element', index: index++, text: parts.join('') };
          parts = [];
          inElement = false;
          start = -1;
        }
      }
      i++;
    }
    if (inElement && start >= 0) parts.push(s.slice(start, n));
  }
  const tail = decoder.end();
  if (tail && inElement) parts.push(tail);
  if (root === undefined) {
    yield { type: 'root', kind: 'empty' };
    return;
  }
  if (inElement) {
    if (scalar && !inString) {
      yield { type: 'element', index: index++, text: parts.join('') };
      if (root === 'array') yield { type: 'truncated', index, reason: 'the array is not closed' };
    } else {
      yield { type: 'truncated', index, reason: 'the document ends inside this element' };
    }
  } else if (root === 'array' && !closed) {
    yield { type: 'truncated', index, reason: 'the array is not closed' };
  }
}
