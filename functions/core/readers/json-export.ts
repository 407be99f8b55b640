/**
 * Reads a Label Studio JSON export (an array of tasks, or one task object) incrementally: one task
 * in memory at a time. A malformed element — including one nested deeper than MAX_JSON_DEPTH or
 * larger than MAX_ELEMENT_BYTES (json/limits.ts) — is reported by index and skipped; the rest go on.
 */

import { refTaskId } from '../items.ts';
import { type RootKind, type SplitOptions, splitJsonDocument } from '../json/array-stream.ts';
import { type JsonLimits, MAX_ELEMENT_BYTES, MAX_JSON_DEPTH, sizeReason } from '../json/limits.ts';
import { jsonErrorReason, parseJson } from '../json/parse.ts';
import { boundedChunks } from '../json/utf8-pieces.ts';
import { isJsonObject } from '../json/value.ts';
import { checkTask } from '../model/label-studio.ts';
import type { Report } from '../report.ts';
import type { SourceTask } from './source.ts';
import { notUtf8Reason, utf8Checked } from './utf8-check.ts';

/** The warning for input that is not UTF-8 (read with replacement characters). */
function warnNotUtf8(report: Report, name: string): (byteOffset: number) => void {
  return (at) => report.warn({ source: name, reason: notUtf8Reason(at) });
}

export async function* readJsonExport(
  chunks: AsyncIterable<Uint8Array | string>,
  name: string,
  report: Report,
  limits: JsonLimits = {},
  split: SplitOptions = {},
): AsyncGenerator<SourceTask> {
  let rootKind: RootKind | undefined;
  for await (const ev of splitJsonDocument(utf8Checked(chunks, warnNotUtf8(report, name)), limits, split)) {
    if (ev.type === 'root') {
      rootKind = ev.kind;
      if (ev.kind === 'empty') report.skip({ source: name, reason: 'the file is empty' });
      if (ev.bom)
        report.warn({
          source: name,
          reason:
            'the file starts with a UTF-8 byte order mark (read anyway; Label Studio would ignore the file)',
        });
      if (ev.kind === 'other') {
        report.skip({ source: name, reason: `not a JSON array or object: it starts with "${ev.firstChar}"` });
      }
      continue;
    }
    const source = `${name}[${ev.index}]`;
    if (ev.type === 'truncated') {
      report.skip({ source, reason: `truncated JSON: ${ev.reason}; everything before it was exported` });
      continue;
    }
    if (ev.type === 'trailing') {
      report.skip({
        source: name,
        reason: `more follows the ${rootKind === 'object' ? 'task object' : "array's closing ]"}: it is not read (a .json file holds one JSON value; JSON Lines are read from a .jsonl file)`,
      });
      continue;
    }
    if (ev.type === 'invalid') {
      report.skip({ source, reason: ev.reason });
      continue;
    }
    let value: unknown;
    try {
      // The splitter checked the depth while scanning.
      value = parseJson(ev.text, ev.exact ?? false, { maxDepth: limits.maxDepth, depthChecked: true });
    } catch (err) {
      report.skip({ source, reason: jsonErrorReason(err) });
      continue;
    }
    const task = isJsonObject(value) ? value : undefined;
    const check = checkTask(value);
    if (!task || !check.ok) {
      report.skip({
        source,
        taskId: task ? refTaskId(task) : undefined,
        reason: check.ok ? 'not an object' : check.reason,
      });
      continue;
    }
    yield { task, ref: { source, taskId: refTaskId(task) } };
  }
}

/**
 * Reads JSON Lines: one task per non-empty line. A line over `limits.maxElementBytes` is reported
 * (`name:line`) and skipped without being buffered whole; one nested too deep is reported too.
 */
export async function* readJsonLines(
  chunks: AsyncIterable<Uint8Array | string>,
  name: string,
  report: Report,
  limits: JsonLimits = {},
): AsyncGenerator<SourceTask> {
  const maxBytes = limits.maxElementBytes ?? MAX_ELEMENT_BYTES;
  const maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH;
  const decoder = new TextDecoder();
  /** The current line's text so far, in pieces. */
  let pending: string[] = [];
  let pendingUnits = 0;
  let lineNo = 0;
  /** The current line is over the size limit: drop text until its newline. */
  let skipping = false;
  const tooLarge = () => report.skip({ source: `${name}:${lineNo + 1}`, reason: sizeReason(maxBytes) });
  const handle = (line: string): SourceTask | undefined => {
    lineNo++;
    const text = line.trim();
    if (!text) return undefined;
    const source = `${name}:${lineNo}`;
    // A UTF-16 unit is 1 to 3 UTF-8 bytes: measure only a line that may be over the limit.
    if (text.length * 3 > maxBytes && Buffer.byteLength(text, 'utf8') > maxBytes) {
      report.skip({ source, reason: sizeReason(maxBytes) });
      return undefined;
    }
    let value: unknown;
    try {
      value = parseJson(text, undefined, { maxDepth });
    } catch (err) {
      report.skip({ source, reason: jsonErrorReason(err) });
      return undefined;
    }
    const check = checkTask(value);
    if (!isJsonObject(value) || !check.ok) {
      report.skip({ source, reason: check.ok ? 'not an object' : check.reason });
      return undefined;
    }
    return { task: value, ref: { source, taskId: refTaskId(value) } };
  };
  // Decoded in pieces of 64 KiB: whole 1 MiB chunks would be large-object strings (array-stream.ts).
  // A line's pieces are kept in a list and joined once its newline comes: appending each piece to
  // one string and searching it again made a long line cost its length squared.
  for await (const chunk of boundedChunks(utf8Checked(chunks, warnNotUtf8(report, name)))) {
    let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      if (skipping) {
        skipping = false;
        lineNo++;
      } else {
        const t = handle(pending.length ? pending.join('') + text.slice(0, nl) : text.slice(0, nl));
        if (t) yield t;
      }
      pending = [];
      pendingUnits = 0;
      text = text.slice(nl + 1);
      nl = text.indexOf('\n');
    }
    if (skipping || !text) continue;
    pending.push(text);
    pendingUnits += text.length;
    // No newline in sight and already more units than the limit has bytes: over the limit.
    if (pendingUnits > maxBytes) {
      tooLarge();
      skipping = true;
      pending = [];
      pendingUnits = 0;
    }
  }
  const last = pending.join('') + decoder.decode();
  if (last && !skipping) {
    const t = handle(last);
    if (t) yield t;
  }
}
