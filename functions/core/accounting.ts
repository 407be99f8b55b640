/**
 * Accounting for every result of every annotation, per format (issue 11, item 1): each result of an
 * item either lands in the output (`exported`) or becomes one report entry (`skipped`, or a
 * warning for a result written with a caveat) naming the task id, annotation id, result id,
 * from_name, type, the format and the reason. Counts per format go to `Report.regionCounts`
 * (report.json / manifest `regions: {FORMAT: {exported, skipped}}`).
 *
 * Use in a writer:
 * ```ts
 * const ledger = new RegionLedger(ctx, 'YOLO');
 * for (const item of itemsOfTask(...)) {
 *   const acc = ledger.item(item, ref);      // results items.ts dropped are reported here
 *   acc.exported(v);                         // v written
 *   acc.skip(v, 'a polygon has no points');  // v left out, with why
 *   acc.close((v) => `YOLO cannot carry a ${typeOf(v)} result`); // every result not marked yet
 * }
 * ```
 * `close(undefined)` marks the rest exported (formats that carry every result: JSON_MIN, CSV).
 * `skipAll(reason)` leaves every result of the item out (no output file for it). `revoke(reason)`
 * turns exported results into skipped ones when a later write replaced the item's output (YOLO and
 * VOC rewrite a label file per annotation of a task).
 */
import { type Item, resultInfo, type TaskRef } from './items.ts';
import type { JsonObject } from './json/value.ts';
import type { Report, ReportEntry } from './report.ts';

type State = 'exported' | 'skipped';

/** The accounting of one format in one export. */
export class RegionLedger {
  readonly #report: Report;
  readonly format: string;

  /** `ctx.format` (set by runExport) wins over `fallback` (the writer's own idea of its name). */
  constructor(ctx: { report: Report; format?: string }, fallback: string) {
    this.#report = ctx.report;
    this.format = ctx.format ?? fallback;
    this.#report.regionCounts(this.format);
  }

  /** Starts the accounting of one item: its dropped results (items.ts) are reported as skipped. */
  item(item: Item, ref: TaskRef): ItemLedger {
    const acc = new ItemLedger(this.#report, this.format, item, ref);
    return acc;
  }
}

/** A result description for an entry: the result's own fields, else what the value says. */
function describe(v: JsonObject): Pick<ReportEntry, 'annotationId' | 'resultId' | 'fromName' | 'type'> {
  const info = resultInfo(v);
  const out: Pick<ReportEntry, 'annotationId' | 'resultId' | 'fromName' | 'type'> = {};
  if (info.annotationId !== undefined) out.annotationId = info.annotationId;
  if (info.resultId !== undefined) out.resultId = info.resultId;
  if (info.fromName !== undefined) out.fromName = info.fromName;
  const type = info.type ?? (typeof v.type === 'string' ? v.type.toLowerCase() : undefined);
  if (type !== undefined) out.type = type;
  return out;
}

/** The accounting of one item (one annotation of a task) in one format. */
export class ItemLedger {
  readonly #states = new Map<JsonObject, State>();
  readonly #values: JsonObject[] = [];
  #closed = false;

  constructor(
    private readonly report: Report,
    private readonly format: string,
    item: Item,
    private readonly ref: TaskRef,
  ) {
    for (const list of item.output.values()) for (const v of list) this.#values.push(v);
    const counts = report.regionCounts(format);
    for (const d of item.dropped ?? []) {
      counts.skipped++;
      report.skip({ ...ref, ...this.#clean(d.info), format, reason: d.reason });
    }
  }

  #clean(info: Pick<ReportEntry, 'annotationId' | 'resultId' | 'fromName' | 'type'>) {
    const out: Pick<ReportEntry, 'annotationId' | 'resultId' | 'fromName' | 'type'> = {};
    for (const k of ['annotationId', 'resultId', 'fromName', 'type'] as const)
      if (info[k] !== undefined) (out as Record<string, unknown>)[k] = info[k];
    return out;
  }

  #entry(v: JsonObject, reason: string): ReportEntry {
    return { ...this.ref, ...describe(v), format: this.format, reason };
  }

  /** The results of the item not marked yet. */
  pending(): JsonObject[] {
    return this.#values.filter((v) => !this.#states.has(v));
  }

  /** `v` was written (again: no effect; after a skip: counts as written, the entry stays). */
  exported(v: JsonObject): void {
    this.#states.set(v, 'exported');
  }

  /** `v` was written with a caveat: a warning entry; it counts as written. */
  warn(v: JsonObject, reason: string): void {
    this.report.warn(this.#entry(v, reason));
    if (this.#states.get(v) !== 'skipped') this.#states.set(v, 'exported');
  }

  /** `v` is left out: one skipped entry (the first reason only, per result). */
  skip(v: JsonObject, reason: string): void {
    if (this.#states.has(v)) return;
    this.#states.set(v, 'skipped');
    this.report.skip(this.#entry(v, reason));
  }

  /** Leaves every result not marked yet out, with one reason. */
  skipAll(reason: string): void {
    for (const v of this.pending()) this.skip(v, reason);
  }

  /**
   * Ends the item: each result not marked yet is skipped with `reasonFor(v)`, or counted exported
   * when it returns undefined (or `reasonFor` is omitted). Counts go to the report. Idempotent.
   */
  close(reasonFor?: (v: JsonObject) => string | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const v of this.pending()) {
      const reason = reasonFor?.(v);
      if (reason === undefined) this.exported(v);
      else this.skip(v, reason);
    }
    const counts = this.report.regionCounts(this.format);
    for (const state of this.#states.values()) {
      if (state === 'exported') counts.exported++;
      else counts.skipped++;
    }
  }

  /**
   * After `close`: the item's output was replaced (a later write to the same file), so its
   * exported results are lost — each becomes a skipped entry with `reason`.
   */
  revoke(reason: string): void {
    const counts = this.report.regionCounts(this.format);
    for (const [v, state] of this.#states) {
      if (state !== 'exported') continue;
      this.#states.set(v, 'skipped');
      if (this.#closed) {
        counts.exported--;
        counts.skipped++;
      }
      this.report.skip(this.#entry(v, reason));
    }
  }
}

/** The type word of a value for messages: the result's type, else its control's. */
export function resultType(v: JsonObject): string {
  return describe(v).type ?? 'unknown';
}
