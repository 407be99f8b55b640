/**
 * From a task to "items" (docs/label-studio-behaviour.md#annotation-selection): one item per non-cancelled annotation, newest
 * first; one empty item for a task with no annotations; none for a task whose annotations were all
 * cancelled. Every exporter except JSON reads items.
 */
import { findControl } from './config/label-config.ts';
import type { LabelSchema } from './config/schema.ts';
import { pyFloatRepr } from './json/py-number.ts';
import {
  deepCopy,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  NumLit,
  setKey,
  truthy,
} from './json/value.ts';
import type { Report } from './report.ts';

/** Where a result value came from (core/accounting.ts names it in report entries). */
export interface ResultInfo {
  annotationId?: string | number;
  resultId?: string | number;
  fromName?: string;
  /** The result's `type`, else its control's type. */
  type?: string;
}

/** A result of the annotation that did not become a value of `Item.output`, and why. */
export interface DroppedResult {
  info: ResultInfo;
  reason: string;
}

/**
 * Where a value came from, kept on the value itself under a non-enumerable symbol (invisible to
 * keys, copies and serializers). A WeakMap did the same at ≈3× the cost per result, most of it
 * in the garbage collector (its entries are ephemerons).
 */
const RESULT_INFO: unique symbol = Symbol('ls-export.resultInfo');

type WithInfo = JsonObject & { [RESULT_INFO]?: ResultInfo };

/** Where a value of `Item.output` came from (empty for values built elsewhere). */
export const resultInfo = (v: JsonObject): ResultInfo => (v as WithInfo)[RESULT_INFO] ?? {};

const idOf = (v: JsonValue | undefined): string | number | undefined =>
  typeof v === 'string' || typeof v === 'number' ? v : undefined;

export interface Item {
  task: JsonObject;
  /** `task.id`. */
  id: JsonValue;
  /** `task.data`. */
  input: JsonObject;
  /** from_name → result values (each with the schema `type` added), in order of first appearance. */
  output: Map<string, JsonObject[]>;
  /** The annotation this item comes from; undefined for the empty item of an unannotated task. */
  annotation?: JsonObject;
  /** Results of the annotation that are not in `output` (no control of that name, no value). */
  dropped: DroppedResult[];
  completedBy: JsonValue;
  annotationId: JsonValue;
  createdAt: JsonValue;
  updatedAt: JsonValue;
  leadTime: JsonValue;
  history: JsonValue;
  wasCancelled: JsonValue;
}

export interface ItemOptions {
  /** Add `id`/`parentID` to values (the reference's keypoint mode, docs/label-studio-behaviour.md#yolo-keypoints). */
  keypointMode?: boolean;
}

/** Where a task came from, for report entries. */
export interface TaskRef {
  source: string;
  taskId?: string | number;
}

const field = (o: JsonObject, k: string): JsonValue => (Object.hasOwn(o, k) ? o[k] : null);

export function refTaskId(task: JsonObject): string | number | undefined {
  const id = task.id;
  return typeof id === 'number' || typeof id === 'string' ? id : undefined;
}

/**
 * Why a relation result (`{type: "relation", from_id, to_id}`: a link between two regions, with no
 * from_name) is left out. Label Studio's converter drops relations silently from every format but
 * JSON (a copy of the tasks); here each is reported, naming the regions it links.
 */
function relationReason(r: JsonObject): string {
  const end = (id: JsonValue) => (typeof id === 'string' || typeof id === 'number' ? String(id) : '?');
  return `a relation between regions (${end(field(r, 'from_id'))} → ${end(field(r, 'to_id'))}) is left out: only JSON keeps relations, as Label Studio's converter does`;
}

/** Builds the output map of one annotation's results. */
export function buildOutput(
  result: JsonValue,
  schema: LabelSchema,
  opts: ItemOptions = {},
  onDropped: (dropped: DroppedResult) => void = () => {},
  annotationId?: JsonValue,
): Map<string, JsonObject[]> {
  const output = new Map<string, JsonObject[]>();
  if (!Array.isArray(result)) return output;
  for (const r of result) {
    const info: ResultInfo = { annotationId: idOf(annotationId) };
    if (!isJsonObject(r)) {
      onDropped({ info, reason: 'a result is not an object; it is left out' });
      continue;
    }
    info.resultId = idOf(r.id);
    if (typeof r.type === 'string') info.type = r.type;
    const fromName = r.from_name;
    if (typeof fromName !== 'string' || fromName === '') {
      onDropped({
        info,
        reason: r.type === 'relation' ? relationReason(r) : 'a result has no from_name; it is left out',
      });
      continue;
    }
    info.fromName = fromName;
    const control = findControl(schema, fromName);
    let v: JsonObject;
    if (control) {
      info.type ??= control.type.toLowerCase();
      if (!isJsonObject(r.value)) {
        // The reference crashes (KeyError) on such a result; it carries nothing to export.
        onDropped({ info, reason: `a "${fromName}" result has no value object; it is left out` });
        continue;
      }
      v = deepCopy(r.value);
      setKey(v, 'type', control.type);
      if (Object.hasOwn(r, 'original_width')) setKey(v, 'original_width', r.original_width);
      if (Object.hasOwn(r, 'original_height')) setKey(v, 'original_height', r.original_height);
      if (opts.keypointMode) {
        setKey(v, 'id', field(r, 'id'));
        setKey(v, 'parentID', field(r, 'parentID'));
      }
    } else if (r.type === 'chatmessage') {
      // Chat results survive even without a schema tag, as in the reference.
      v = isJsonObject(r.value) ? deepCopy(r.value) : {};
      setKey(v, 'type', 'chatmessage');
    } else {
      onDropped({
        info,
        reason: `from_name "${fromName}" is not a control of the label config; the result is left out (as Label Studio does)`,
      });
      continue;
    }
    Object.defineProperty(v, RESULT_INFO, { value: info });
    const list = output.get(fromName);
    if (list) list.push(v);
    else output.set(fromName, [v]);
  }
  return output;
}

/**
 * The items of one task. Where the reference crashes (`annotations: null`, created_at present on
 * some annotations only), we warn and go on.
 */
export function itemsOfTask(
  task: JsonObject,
  schema: LabelSchema,
  ref: TaskRef,
  report: Report,
  opts: ItemOptions = {},
): Item[] {
  const hasAnnotations = Object.hasOwn(task, 'annotations');
  if (!hasAnnotations && !Object.hasOwn(task, 'completions')) {
    report.warn({
      ...ref,
      reason: 'task has no "annotations" key; it is left out of the export (as Label Studio does)',
    });
    return [];
  }
  const input = isJsonObject(task.data) ? task.data : {};
  const base = { task, id: field(task, 'id'), input };
  const raw = hasAnnotations ? task.annotations : task.completions;
  if (raw === null) {
    report.warn({ ...ref, reason: '"annotations" is null; exported as a task without annotations' });
  }
  if (!truthy(raw)) return [{ ...base, ...emptyFields() }];
  if (!Array.isArray(raw)) {
    report.skip({ ...ref, reason: '"annotations" is not a list' });
    return [];
  }
  const kept: JsonObject[] = [];
  for (const a of raw) {
    if (!isJsonObject(a)) {
      report.warn({ ...ref, reason: 'an annotation is not an object; it is ignored' });
      continue;
    }
    if (truthy(a.skipped) || truthy(a.was_cancelled)) continue;
    kept.push(a);
  }
  if (kept.length === 0) return [];
  sortNewestFirst(kept, ref, report);
  return kept.map((a) => {
    const dropped: DroppedResult[] = [];
    const output = buildOutput(a.result, schema, opts, (d) => dropped.push(d), a.id);
    return { ...base, output, dropped, ...annotationFields(a) };
  });
}

/** Whether a task has an annotation that is neither cancelled nor skipped (`--only-annotated`). */
export function hasKeptAnnotation(task: JsonObject): boolean {
  const raw = Object.hasOwn(task, 'annotations') ? task.annotations : task.completions;
  return (
    Array.isArray(raw) && raw.some((a) => isJsonObject(a) && !truthy(a.skipped) && !truthy(a.was_cancelled))
  );
}

function annotationFields(a: JsonObject) {
  return {
    annotation: a,
    completedBy: Object.hasOwn(a, 'completed_by') ? a.completed_by : {},
    annotationId: field(a, 'id'),
    createdAt: field(a, 'created_at'),
    updatedAt: field(a, 'updated_at'),
    leadTime: field(a, 'lead_time'),
    history: field(a, 'history'),
    wasCancelled: field(a, 'was_cancelled'),
  };
}

function emptyFields() {
  return {
    output: new Map<string, JsonObject[]>(),
    dropped: [] as DroppedResult[],
    completedBy: {} as JsonValue,
    annotationId: null,
    createdAt: null,
    updatedAt: null,
    leadTime: null,
    history: null,
    wasCancelled: null,
  };
}

/** Newest first by `created_at` compared as strings, stable (Python's sorted(reverse=True)). */
function sortNewestFirst(annotations: JsonObject[], ref: TaskRef, report: Report): void {
  if (annotations.length < 2) return;
  const keys = annotations.map((a) => a.created_at);
  const missing = keys.filter((k) => typeof k !== 'string').length;
  if (missing > 0 && missing < keys.length) {
    report.warn({ ...ref, reason: 'some annotations lack "created_at"; they are ordered as the oldest' });
  }
  const order = annotations.map((a, i) => ({
    a,
    i,
    k: typeof a.created_at === 'string' ? a.created_at : '',
  }));
  order.sort((x, y) => (x.k < y.k ? 1 : x.k > y.k ? -1 : x.i - y.i));
  for (let i = 0; i < order.length; i++) annotations[i] = order[i].a;
}

/** `get_annotator` (docs/label-studio-behaviour.md#annotator). */
export function annotatorOf(completedBy: JsonValue, fallback: JsonValue, intId: boolean): JsonValue {
  if (isJsonObject(completedBy)) return Object.hasOwn(completedBy, 'email') ? completedBy.email : fallback;
  if (typeof completedBy === 'number' && Number.isInteger(completedBy) && intId) return completedBy;
  return pyStr(completedBy);
}

/** Python `str()` of a JSON value (used where the reference stringifies an annotator). */
export function pyStr(v: JsonValue): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloatRepr(v);
  if (v instanceof NumLit) return v.isFloat ? pyFloatRepr(v.value) : v.raw;
  return JSON.stringify(v);
}
