/**
 * Reads a Label Studio JSON export (an array of tasks, or one task object) incrementally: one task
 * in memory at a time. A malformed element is reported by index and skipped; the rest go on.
 */

import { refTaskId } from '../items.ts';
import { splitJsonDocument } from '../json/array-stream.ts';
import { parseJson } from '../json/parse.ts';
import { isJsonObject } from '../json/value.ts';
import { checkTask } from '../model/label-studio.ts';
import { type Report, reasonOf } from '../report.ts';
import type { SourceTask } from './source.ts';

export async function* readJsonExport(
  chunks: AsyncIterable<Uint8Array | string>,
  name: string,
  report: Report,
): AsyncGenerator<SourceTask> {
  for await (const ev of splitJsonDocument(chunks)) {
    if (ev.type === 'root') {
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
    let value: unknown;
    try {
      value = parseJson(ev.text, ev.exact ?? false);
    } catch (err) {
      report.skip({ source, reason: `invalid JSON: ${reasonOf(err)}` });
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

/** Reads JSON Lines: one task per non-empty line. */
export async function* readJsonLines(
  chunks: AsyncIterable<Uint8Array | string>,
  name: string,
  report: Report,
): AsyncGenerator<SourceTask> {
  const decoder = new TextDecoder();
  let pending = '';
  let lineNo = 0;
  const handle = (line: string): SourceTask | undefined => {
    lineNo++;
    const text = line.trim();
    if (!text) return undefined;
    const source = `${name}:${lineNo}`;
    let value: unknown;
    try {
      value = parseJson(text);
    } catch (err) {
      report.skip({ source, reason: `invalid JSON: ${reasonOf(err)}` });
      return undefined;
    }
    const check = checkTask(value);
    if (!isJsonObject(value) || !check.ok) {
      report.skip({ source, reason: check.ok ? 'not an object' : check.reason });
      return undefined;
    }
    return { task: value, ref: { source, taskId: refTaskId(value) } };
  };
  for await (const chunk of chunks) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const t = handle(pending.slice(0, nl));
      if (t) yield t;
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
    }
  }
  pending += decoder.decode();
  if (pending) {
    const t = handle(pending);
    if (t) yield t;
  }
}
