/**
 * zod schemas for what Label Studio produces (export JSON, target-storage objects). They validate
 * shape only: parsed values are used as they are, so unknown fields, key order and number literals
 * pass through untouched.
 */
import { z } from 'zod';
import { type JsonObject, NumLit } from '../json/value.ts';

const jsonNumber = z.union([z.number(), z.instanceof(NumLit)]);
const id = z.union([jsonNumber, z.string()]);
const jsonObject = z.record(z.string(), z.unknown());

export const resultSchema = z.looseObject({
  id: z.union([z.string(), jsonNumber]).optional(),
  type: z.string().optional(),
  from_name: z.string().optional(),
  to_name: z.string().optional(),
  value: jsonObject.optional(),
  original_width: jsonNumber.nullish(),
  original_height: jsonNumber.nullish(),
});

export const annotationSchema = z.looseObject({
  id: id.nullish(),
  result: z.array(z.unknown()).nullish(),
  completed_by: z.unknown().optional(),
  was_cancelled: z.boolean().nullish(),
  ground_truth: z.boolean().nullish(),
  created_at: z.string().nullish(),
  updated_at: z.string().nullish(),
  lead_time: jsonNumber.nullish(),
});
export const predictionSchema = z.looseObject({
  result: z.array(z.unknown()).nullish(),
  score: jsonNumber.nullish(),
});
export const draftSchema = z.looseObject({ result: z.array(z.unknown()).nullish() });

export const taskSchema = z.looseObject({
  id: id,
  data: jsonObject,
  annotations: z.array(z.unknown()).nullish(),
  completions: z.array(z.unknown()).nullish(),
  predictions: z.array(z.unknown()).nullish(),
  drafts: z.array(z.unknown()).nullish(),
});

/** A JSON export: an array of tasks. */
export const exportSchema = z.array(taskSchema);

/** Target storage, annotation layout: one annotation with its task nested under `task`. */
export const storageAnnotationSchema = annotationSchema.extend({
  result: z.array(z.unknown()).nullable(),
  task: z.looseObject({ id: id, data: jsonObject }),
});

/** Target storage, task layout: a whole task with all its annotations. */
export const storageTaskSchema = taskSchema;

export type StorageLayout = 'annotation' | 'task';

/** Tells the two target-storage layouts apart by content (never by key). */
export function detectLayout(body: unknown): StorageLayout | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const o = body as JsonObject;
  if (
    'task' in o &&
    typeof o.task === 'object' &&
    o.task !== null &&
    !Array.isArray(o.task) &&
    'result' in o
  ) {
    return 'annotation';
  }
  if ('data' in o) return 'task';
  return undefined;
}

/** One readable sentence from a zod error: the first problem and where it is. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const path = issue.path.length ? issue.path.join('.') : 'the object';
  // zod leaves the offending input out of issues; its message names what was received.
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) return `${path} is missing`;
  return `${path}: ${issue.message}`;
}

export type TaskCheck = { ok: true } | { ok: false; reason: string };

const VALID: TaskCheck = { ok: true };
const HOLDER_KEYS = ['annotations', 'completions', 'predictions', 'drafts'] as const;

/** A plain object as zod's record and object schemas see one (not an array, not a class instance). */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * True when `task` surely passes checkTask: the shape almost every parsed task has, tested without
 * zod, whose object and record schemas copy every key of the task and of its `data` (≈ 10 % of a
 * JSON_MIN conversion's CPU time and much of its garbage). False means "not sure": checkTask then
 * asks zod, which alone words the reason. Never true where zod would refuse (test/core/model).
 */
function surelyValidTask(task: unknown): boolean {
  if (!isPlainObject(task)) return false;
  const id = task.id;
  if (!(typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) || id instanceof NumLit))
    return false;
  if (!isPlainObject(task.data)) return false;
  for (const key of HOLDER_KEYS) {
    const list = task[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) return false;
    for (const a of list) {
      if (typeof a !== 'object' || a === null || Array.isArray(a)) continue;
      const result = (a as Record<string, unknown>).result;
      if (result !== undefined && result !== null && !Array.isArray(result)) return false;
    }
  }
  return true;
}

/** An annotation-like object (annotation, completion, prediction, draft): `result` is a list or absent. */
const resultHolderSchema = z.looseObject({ result: z.array(z.unknown()).nullish() });

/**
 * Validates a task's shape (annotations included: an object's `result` must be a list), returning
 * a reason instead of throwing. A non-object annotation element is left to the writers (reported
 * per result there).
 */
export function checkTask(task: unknown): TaskCheck {
  if (surelyValidTask(task)) return VALID;
  const r = taskSchema.safeParse(task);
  if (!r.success) return { ok: false, reason: `not a Label Studio task: ${describeIssue(r.error)}` };
  for (const key of HOLDER_KEYS) {
    const list = r.data[key] ?? [];
    for (const [i, a] of list.entries()) {
      if (typeof a !== 'object' || a === null || Array.isArray(a)) continue;
      const h = resultHolderSchema.safeParse(a);
      if (!h.success)
        return { ok: false, reason: `not a Label Studio task: ${key}.${i}.${describeIssue(h.error)}` };
    }
  }
  return { ok: true };
}
