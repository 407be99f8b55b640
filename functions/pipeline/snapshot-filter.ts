/**
 * Label Studio's snapshot options applied to assembled tasks (docs/label-studio-storage-and-api.md#snapshot-options),
 * pure. Order as in Label Studio: task filters on the task's own annotations, then the annotation
 * filter, then `only_with_annotations`, then serialization. Plus `anonymize` (ours).
 *
 * Where target storage holds less than Label Studio's database: drafts and predictions of the
 * annotation layout are absent and those of the task layout are ids, so "expanding" them keeps
 * what storage has; `view` (a Data Manager tab) and Enterprise's `reviewed` cannot be evaluated
 * and are ignored (Label Studio also ignores an unknown view).
 */
import {
  deleteKey,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  keysOf,
  setKey,
  truthy,
} from '../core/json/value.ts';
import type { TaskSource } from '../core/readers/source.ts';
import { type SnapshotOptions, snapshotOptionsSchema } from './config.ts';

const annotationsOf = (task: JsonObject): JsonObject[] =>
  (Array.isArray(task.annotations) ? task.annotations : []).filter(isJsonObject);

const cancelled = (a: JsonObject) => truthy(a.was_cancelled);

function modeMatches(mode: 'only' | 'exclude' | null | undefined, value: boolean): boolean {
  if (mode === 'only') return value;
  if (mode === 'exclude') return !value;
  return true;
}

/** Label Studio's `is_labeled` when present; otherwise: completed annotations reach the overlap. */
function isLabeled(task: JsonObject): boolean {
  if (typeof task.is_labeled === 'boolean') return task.is_labeled;
  const overlap = typeof task.overlap === 'number' ? task.overlap : 1;
  return annotationsOf(task).filter((a) => !cancelled(a)).length >= overlap;
}

/** Only-id serialization of a draft/prediction/user reference. */
function onlyId(v: JsonValue): JsonValue {
  return isJsonObject(v) && Object.hasOwn(v, 'id') ? v.id : v;
}

const expands = (opt: { only_id?: boolean } | null | undefined) =>
  opt !== null && opt !== undefined && opt.only_id !== true;

/** Identity fields removed by `anonymize`, per object kind. */
const ANNOTATION_IDENTITY = ['completed_by', 'updated_by', 'last_created_by', 'created_username'];
const TASK_IDENTITY = ['updated_by', 'comment_authors'];
const DRAFT_IDENTITY = ['user', 'created_username', 'completed_by', 'updated_by'];
const REVIEW_IDENTITY = ['created_by', 'updated_by'];

function copy(o: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of keysOf(o)) setKey(out, k, o[k]);
  return out;
}

function without(o: JsonObject, keys: readonly string[]): JsonObject {
  const out = copy(o);
  for (const k of keys) if (Object.hasOwn(out, k)) deleteKey(out, k);
  return out;
}

/** Builds the per-task transform of a snapshot; undefined drops the task. */
export function snapshotTransform(options: SnapshotOptions): (task: JsonObject) => JsonObject | undefined {
  const tf = options.task_filter_options;
  const af = options.annotation_filter_options;
  const so = options.serialization_options;
  const annFilter =
    af && (af.usual || af.ground_truth || af.skipped)
      ? (a: JsonObject) =>
          (af.usual === true && !cancelled(a) && !truthy(a.ground_truth)) ||
          (af.ground_truth === true && truthy(a.ground_truth)) ||
          (af.skipped === true && cancelled(a))
      : undefined;
  return (input) => {
    const all = annotationsOf(input);
    if (tf) {
      if (!modeMatches(tf.skipped, all.some(cancelled))) return undefined;
      if (!modeMatches(tf.finished, isLabeled(input))) return undefined;
      if (
        !modeMatches(
          tf.annotated,
          all.some((a) => !cancelled(a)),
        )
      )
        return undefined;
    }
    let annotations = annFilter ? all.filter(annFilter) : all;
    if (tf?.only_with_annotations && annotations.length === 0) return undefined;

    // Fields of the storage serializers that Label Studio's export serializer does not have.
    let task = without(input, ['is_labeled', 'overlap']);
    annotations = annotations.map((a) => {
      let out = without(a, ['created_username', 'created_ago']);
      if (!so?.include_annotation_history && Object.hasOwn(out, 'history')) deleteKey(out, 'history');
      if (Object.hasOwn(out, 'completed_by')) {
        const by = out.completed_by;
        if (expands(so?.annotations__completed_by)) {
          if (isJsonObject(by)) setKey(out, 'completed_by', completedByObject(by));
        } else setKey(out, 'completed_by', onlyId(by));
      }
      if (options.anonymize) {
        out = without(out, ANNOTATION_IDENTITY);
        if (Array.isArray(out.reviews)) {
          setKey(
            out,
            'reviews',
            out.reviews.map((r) => (isJsonObject(r) ? without(r, REVIEW_IDENTITY) : r)),
          );
        }
      }
      return out;
    });
    if (Object.hasOwn(task, 'annotations')) setKey(task, 'annotations', annotations);
    for (const [field, opt] of [
      ['drafts', so?.drafts],
      ['predictions', so?.predictions],
    ] as const) {
      const list = task[field];
      if (!Array.isArray(list)) continue;
      let out = expands(opt) ? list : list.map(onlyId);
      if (options.anonymize && field === 'drafts')
        out = out.map((d) => (isJsonObject(d) ? without(d, DRAFT_IDENTITY) : d));
      setKey(task, field, out);
    }
    if (options.anonymize) task = without(task, TASK_IDENTITY);
    return task;
  };
}

/** `{id, email, first_name, last_name}`, the order of Label Studio's export serializer. */
function completedByObject(by: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of ['id', 'email', 'first_name', 'last_name']) if (Object.hasOwn(by, k)) setKey(out, k, by[k]);
  for (const k of keysOf(by)) if (!Object.hasOwn(out, k)) setKey(out, k, by[k]);
  return out;
}

/** Label Studio's default export options: every task and annotation, users as ids, no history. */
export const LS_EXPORT_DEFAULTS: SnapshotOptions = snapshotOptionsSchema.parse(undefined);

/** A task source seen through a snapshot transform (tasks it drops are left out). */
export function transformedSource(
  source: TaskSource,
  transform: (task: JsonObject) => JsonObject | undefined,
): TaskSource {
  return {
    description: source.description,
    async *tasks(report) {
      for await (const t of source.tasks(report)) {
        const task = transform(t.task);
        if (task) yield { task, ref: t.ref };
      }
    },
  };
}
