/**
 * Checks of task ids while an export reads its tasks (B6): a task id that is not a non-negative
 * integer below 2^63 (Label Studio's ids are 64-bit database keys), and a task id seen twice in
 * one run, are each a report warning. The task is exported as it is either way: the output does
 * not change, the report tells the user why two exports of one project may not match.
 */
import type { TaskRef } from './items.ts';
import { type JsonValue, NumLit } from './json/value.ts';
import type { Report } from './report.ts';

/**
 * Most task ids one run remembers for the duplicate check. A Set of a million small integers is
 * about 20–30 MB; a run over more tasks than that (a Lambda has little memory to spare) stops
 * remembering new ids, so a duplicate of an id first seen after the cap goes unreported. One
 * warning says so.
 */
export const MAX_REMEMBERED_TASK_IDS = 1_000_000;

/** Label Studio's largest task id: a signed 64-bit key. */
const MAX_TASK_ID = 2n ** 63n - 1n;

/** The id as written in the input: a string quoted, a number as its literal. */
export function showTaskId(id: JsonValue): string {
  if (id instanceof NumLit) return id.raw;
  if (typeof id === 'number') return String(id);
  return JSON.stringify(id) ?? String(id);
}

/** Whether `id` is what Label Studio gives a task: a JSON integer from 0 to 2^63 − 1. */
export function isTaskIdValid(id: JsonValue): boolean {
  if (typeof id === 'number') return Number.isSafeInteger(id) && id >= 0;
  if (id instanceof NumLit) return !id.isFloat && /^\d+$/.test(id.raw) && BigInt(id.raw) <= MAX_TASK_ID;
  return false;
}

/**
 * The key a task id is remembered by: the number itself for a number (small integers take no
 * extra memory in a Set), a tagged string otherwise, so `7` and `"7"` stay different ids.
 */
function idKey(id: JsonValue): number | string {
  if (typeof id === 'number') return id;
  if (id instanceof NumLit) return `n:${id.raw}`;
  return `s:${showTaskId(id)}`;
}

/** The task id checks of one run (runExport makes one per run); state: the ids seen so far. */
export class TaskIdCheck {
  private readonly seen = new Set<number | string>();
  private full = false;

  constructor(
    private readonly report: Report,
    private readonly cap = MAX_REMEMBERED_TASK_IDS,
  ) {}

  /** Warns (never skips) about the task's id: not a valid id, or one seen before in this run. */
  check(id: JsonValue | undefined, ref: TaskRef): void {
    if (id === undefined) return; // a task without id is refused by checkTask before this
    const shown = showTaskId(id);
    if (!isTaskIdValid(id))
      this.report.warn({
        ...ref,
        reason: `task id ${shown} is not a non-negative integer (Label Studio's task ids are); the task is exported as it is`,
      });
    const key = idKey(id);
    if (this.seen.has(key)) {
      this.report.warn({
        ...ref,
        reason: `task id ${shown} was seen before in this run: two tasks share it; both are exported`,
      });
      return;
    }
    if (this.seen.size < this.cap) {
      this.seen.add(key);
    } else if (!this.full) {
      this.full = true;
      this.report.warn({
        source: ref.source,
        reason: `more than ${this.cap} tasks: ids after this one are not checked for duplicates`,
      });
    }
  }
}
