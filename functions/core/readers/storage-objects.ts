/**
 * Reads a folder or bucket prefix of Label Studio target-storage objects, in either layout
 * (detected by content, never by key):
 *  - annotation layout: one annotation per object, its task nested under `task`;
 *  - task layout: one whole task per object.
 * Annotation objects are regrouped into tasks by task id; for the same annotation id the newest
 * `updated_at` wins. Two passes keep memory to a small index: the first reads each object once to
 * learn (task id, annotation id, updated_at), the second rebuilds one task at a time, in task id
 * order.
 */

import { isUtf8 } from 'node:buffer';
import { MAX_ELEMENT_BYTES, sizeReason } from '../json/limits.ts';
import { jsonErrorReason, parseJson } from '../json/parse.ts';
import {
  deleteKey,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  keysOf,
  NumLit,
  setKey,
} from '../json/value.ts';
import { checkTask, describeIssue, detectLayout, storageAnnotationSchema } from '../model/label-studio.ts';
import type { ObjectInfo, ObjectStore } from '../object-store.ts';
import { readAll } from '../object-store.ts';
import { type Report, reasonOf } from '../report.ts';
import { readJsonExport, readJsonLines } from './json-export.ts';
import type { SourceTask, TaskSource } from './source.ts';
import { firstInvalidByte, notUtf8Reason } from './utf8-check.ts';

const LARGE_OBJECT_BYTES = 4 * 1024 * 1024;

interface AnnotationEntry {
  key: string;
  annotationId: string;
  updatedAt: string;
}
interface TaskEntry {
  /** Task-layout object for this task (newest wins). */
  taskKey?: string;
  taskUpdatedAt?: string;
  /** Annotation-layout objects, by annotation id (newest wins). */
  annotations: Map<string, AnnotationEntry>;
}

export type ParsedStorageObject =
  | { layout: 'task'; taskId: string; task: JsonObject; updatedAt: string }
  | { layout: 'annotation'; taskId: string; annotationId: string; annotation: JsonObject; updatedAt: string };

/** An id as text (numbers, strings and big-integer literals alike), for grouping and ordering. */
export const idText = (v: JsonValue | undefined): string | undefined =>
  typeof v === 'number' || typeof v === 'string' ? String(v) : v instanceof NumLit ? v.raw : undefined;

/**
 * Parses one target-storage object body; throws an Error whose message is the reason to report
 * (invalid JSON, nested deeper than MAX_JSON_DEPTH, not a Label Studio object).
 */
export function parseStorageObject(text: string): ParsedStorageObject {
  let body: JsonValue;
  try {
    body = parseJson(text);
  } catch (err) {
    throw new Error(jsonErrorReason(err));
  }
  const layout = detectLayout(body);
  if (!isJsonObject(body) || !layout) {
    throw new Error(
      'not a Label Studio storage object: neither an annotation (with "result" and "task") nor a task (with "data")',
    );
  }
  if (layout === 'task') {
    const check = checkTask(body);
    if (!check.ok) throw new Error(check.reason);
    return { layout, taskId: idText(body.id)!, task: body, updatedAt: String(body.updated_at ?? '') };
  }
  const r = storageAnnotationSchema.safeParse(body);
  if (!r.success) throw new Error(`not a Label Studio annotation: ${describeIssue(r.error)}`);
  const task = body.task as JsonObject;
  const annotationId = idText(body.id);
  if (annotationId === undefined) throw new Error('the annotation has no id');
  return {
    layout,
    taskId: idText(task.id)!,
    annotationId,
    annotation: body,
    updatedAt: String(body.updated_at ?? ''),
  };
}

/** Rebuilds a task from its nested copy and its annotation objects (sorted by annotation id). */
export function taskFromAnnotations(annotations: JsonObject[], base?: JsonObject): JsonObject {
  const nested = (base ?? (annotations[0].task as JsonObject)) as JsonObject;
  const task: JsonObject = {};
  for (const k of keysOf(nested)) setKey(task, k, nested[k]);
  const list: JsonObject[] = annotations.map((a) => {
    const copy: JsonObject = {};
    for (const k of keysOf(a)) setKey(copy, k, a[k]);
    deleteKey(copy, 'task');
    setKey(copy, 'task', nested.id ?? null);
    return copy;
  });
  list.sort((a, b) => compareIds(idText(a.id) ?? '', idText(b.id) ?? ''));
  setKey(task, 'annotations', list);
  return task;
}

/**
 * Ids made of digits by value (leading zeros do not count: `7`, `007`, `8`; equal values shorter
 * first), anything else after them in string order. The pipeline's state shards group digit ids by
 * value too (records.ts shardOf), so both give one order whatever the shard size — for ids of at
 * most 15 digits whose shard range number fits shardOf's 10 digits (DESIGN.md "Segments").
 */
export function compareIds(a: string, b: string): number {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) {
    const va = a.replace(/^0+(?=\d)/, '');
    const vb = b.replace(/^0+(?=\d)/, '');
    return (
      va.length - vb.length ||
      (va < vb ? -1 : va > vb ? 1 : 0) ||
      a.length - b.length ||
      (a < b ? -1 : a > b ? 1 : 0)
    );
  }
  if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export class StorageObjectsSource implements TaskSource {
  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
  ) {}

  get description(): string {
    return `${this.store.description}/${this.prefix}`;
  }

  private async readText(key: string): Promise<string> {
    const { body } = await this.store.get(key);
    return (await readAll(body)).toString('utf8');
  }

  private async read(key: string): Promise<ParsedStorageObject> {
    return parseStorageObject(await this.readText(key));
  }

  /** Whether an object is a whole JSON export (an array) rather than one storage object. */
  private async isExportFile(obj: ObjectInfo): Promise<boolean> {
    if (/\.(jsonl|ndjson)$/i.test(obj.key)) return true;
    const head = await this.store.get(obj.key, { start: 0, end: 256 });
    const text = (await readAll(head.body)).toString('utf8');
    return text.trimStart().startsWith('[');
  }

  async *tasks(report: Report): AsyncGenerator<SourceTask> {
    const index = new Map<string, TaskEntry>();
    const exportFiles: string[] = [];
    for await (const obj of this.store.list(this.prefix)) {
      let parsed: ParsedStorageObject;
      try {
        // Storage objects are small and read whole; a large file is sniffed first, so a JSON export
        // dropped into the folder is streamed rather than loaded.
        if ((obj.size ?? 0) > LARGE_OBJECT_BYTES || /\.(jsonl|ndjson)$/i.test(obj.key)) {
          if (await this.isExportFile(obj)) {
            exportFiles.push(obj.key);
            continue;
          }
          // Not an export: one storage object, read whole — refused above the element limit.
          if ((obj.size ?? 0) > MAX_ELEMENT_BYTES) throw new Error(sizeReason(MAX_ELEMENT_BYTES));
        }
        const bytes = await readAll((await this.store.get(obj.key)).body);
        if (!isUtf8(bytes)) report.warn({ source: obj.key, reason: notUtf8Reason(firstInvalidByte(bytes)) });
        const text = bytes.toString('utf8');
        if (text.trimStart().startsWith('[')) {
          exportFiles.push(obj.key);
          continue;
        }
        parsed = parseStorageObject(text);
      } catch (err) {
        report.skip({ source: obj.key, reason: reasonOf(err) });
        continue;
      }
      let entry = index.get(parsed.taskId);
      if (!entry) index.set(parsed.taskId, (entry = { annotations: new Map() }));
      if (parsed.layout === 'task') {
        // Label Studio writes a task to one key; two keys holding one task are someone else's copy.
        if (entry.taskKey !== undefined)
          report.warn({
            source: obj.key,
            taskId: parsed.taskId,
            reason: `task ${parsed.taskId} is also in ${entry.taskKey}: only the copy with the latest updated_at (the later key on a tie) is exported`,
          });
        if (entry.taskKey === undefined || parsed.updatedAt >= (entry.taskUpdatedAt ?? '')) {
          entry.taskKey = obj.key;
          entry.taskUpdatedAt = parsed.updatedAt;
        }
      } else {
        const prev = entry.annotations.get(parsed.annotationId);
        if (!prev || parsed.updatedAt >= prev.updatedAt) {
          entry.annotations.set(parsed.annotationId, {
            key: obj.key,
            annotationId: parsed.annotationId,
            updatedAt: parsed.updatedAt,
          });
        }
      }
    }
    const taskIds = [...index.keys()].sort(compareIds);
    for (const taskId of taskIds) {
      const entry = index.get(taskId)!;
      try {
        const task = await this.assemble(entry);
        yield {
          task,
          ref: {
            source: entry.taskKey ?? [...entry.annotations.values()][0].key,
            taskId: Number.isNaN(Number(taskId)) ? taskId : Number(taskId),
          },
        };
      } catch (err) {
        report.skip({ source: entry.taskKey ?? `task ${taskId}`, taskId, reason: reasonOf(err) });
      }
    }
    // Whole exports found in the folder follow, each in its own order (as Label Studio wrote it).
    for (const key of exportFiles) {
      const { body } = await this.store.get(key);
      if (/\.(jsonl|ndjson)$/i.test(key)) yield* readJsonLines(body, key, report);
      else yield* readJsonExport(body, key, report);
    }
  }

  /** One task from its index entry: the task object, with annotation objects merged in. */
  private async assemble(entry: TaskEntry): Promise<JsonObject> {
    const taskObj = entry.taskKey ? await this.read(entry.taskKey) : undefined;
    const fromTask = taskObj?.layout === 'task' ? taskObj.task : undefined;
    if (entry.annotations.size === 0 && fromTask) return fromTask;
    const annotations: JsonObject[] = [];
    for (const a of entry.annotations.values()) {
      const parsed = await this.read(a.key);
      if (parsed.layout === 'annotation') annotations.push(parsed.annotation);
    }
    if (!fromTask) return taskFromAnnotations(annotations);
    return mergeTaskAndAnnotations(fromTask, annotations);
  }
}

const updatedAtOf = (v: JsonValue | undefined): string => (typeof v === 'string' ? v : '');

/** A task object plus newer annotation objects for the same task: per annotation id, newest wins. */
export function mergeTaskAndAnnotations(task: JsonObject, annotationObjects: JsonObject[]): JsonObject {
  const byId = new Map<string, JsonObject>();
  for (const a of Array.isArray(task.annotations) ? task.annotations : []) {
    if (isJsonObject(a)) byId.set(idText(a.id) ?? '', a);
  }
  for (const a of annotationObjects) {
    const id = idText(a.id) ?? '';
    const prev = byId.get(id);
    if (!prev || updatedAtOf(a.updated_at) >= updatedAtOf(prev.updated_at)) {
      const copy: JsonObject = {};
      for (const k of keysOf(a)) if (k !== 'task') setKey(copy, k, a[k]);
      setKey(copy, 'task', task.id ?? null);
      byId.set(id, copy);
    }
  }
  const out: JsonObject = {};
  for (const k of keysOf(task)) setKey(out, k, task[k]);
  setKey(
    out,
    'annotations',
    [...byId.entries()].sort((x, y) => compareIds(x[0], y[0])).map(([, a]) => a),
  );
  return out;
}
