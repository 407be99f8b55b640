/**
 * Writes a JSON file as `JSON.stringify(value, null, 2) + "\n"` would, without building its whole
 * text: the top level's arrays are written an element at a time. A run's report.json holds up to
 * 10,000 skipped and 10,000 warning entries (core/report.ts); as one string it was 4.5 MB and its
 * making raised the peak RSS of a 100,000-task YOLO export by ≈ 9 MiB, at the run's very end.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';

/** Pieces are gathered up to this many UTF-16 units before a write. */
const PIECE_UNITS = 64 * 1024;

/** `JSON.stringify(v, null, 2)` with every line after the first indented by `indent`. */
function pretty(v: unknown, indent: string): string {
  const text = JSON.stringify(v, null, 2) ?? 'null';
  // JSON text has no raw newline inside a string: each one starts a line.
  return text.includes('\n') ? text.replaceAll('\n', `\n${indent}`) : text;
}

/**
 * Whether JSON.stringify leaves out a key of this value: undefined, a function, a symbol, or what a
 * `toJSON` turns into one of those. Decided without stringifying the value (a report's arrays).
 */
function omitted(v: unknown, key: string): boolean {
  const seen =
    v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function'
      ? (v as { toJSON(key: string): unknown }).toJSON(key)
      : v;
  return seen === undefined || typeof seen === 'function' || typeof seen === 'symbol';
}

/** The file's text in pieces, in order; their join is `JSON.stringify(value, null, 2) + "\n"`. */
export function* prettyJsonPieces(value: unknown): Generator<string> {
  const top = value as Record<string, unknown> | null;
  if (top === null || typeof top !== 'object' || Array.isArray(top) || typeof top.toJSON === 'function') {
    yield `${pretty(value, '')}\n`;
    return;
  }
  const keys = Object.keys(top).filter((k) => !omitted(top[k], k));
  if (keys.length === 0) {
    yield '{}\n';
    return;
  }
  yield '{';
  for (const [i, key] of keys.entries()) {
    const v = top[key];
    yield `${i ? ',' : ''}\n  ${JSON.stringify(key)}: `;
    if (!Array.isArray(v) || v.length === 0) {
      yield pretty(v, '  ');
      continue;
    }
    yield '[';
    for (const [j, element] of v.entries()) yield `${j ? ',' : ''}\n    ${pretty(element, '    ')}`;
    yield '\n  ]';
  }
  yield '\n}\n';
}

/** Writes `value` to `path` as pretty JSON (prettyJsonPieces); rejects with the file system's error. */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  const out = createWriteStream(path);
  const failed = once(out, 'error').then(([err]) => Promise.reject(err));
  failed.catch(() => {});
  let batch = '';
  const flush = async () => {
    if (!out.write(batch)) await Promise.race([once(out, 'drain'), failed]);
    batch = '';
  };
  for (const piece of prettyJsonPieces(value)) {
    batch += piece;
    if (batch.length >= PIECE_UNITS) await flush();
  }
  if (batch) await flush();
  out.end();
  await Promise.race([finished(out), failed]);
}
