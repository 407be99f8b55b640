/**
 * JSON_MIN: one flat record per item — task data, the id, each control's prettified value, and the
 * annotation's metadata (docs/label-studio-behaviour.md#json_min).
 *
 * Keys collide silently in Label Studio's record: a control named like a data key overwrites the
 * data value, and the metadata keys (`annotator`, `annotation_id`, `created_at`, `updated_at`,
 * `lead_time`, `agreement`) overwrite a control or data key of that name. We write the same record
 * and say so: a warning per colliding name (once per export), and a control's results overwritten
 * by metadata are skipped results in the region accounting.
 */
import { type ItemLedger, RegionLedger } from '../accounting.ts';
import { annotatorOf, type Item, itemsOfTask, type TaskRef } from '../items.ts';
import { stringify, UJSON_PRETTY } from '../json/serialize.ts';
import { deepCopy, type JsonObject, keysOf, setKey } from '../json/value.ts';
import type { Report } from '../report.ts';
import { flattensToObject, prettifyResult } from './prettify.ts';
import type { ExportContext, FormatWriter } from './types.ts';

/** Keys JSON_MIN and CSV write after the controls: they win over a control or data key of that name. */
export const FLAT_METADATA = ['annotator', 'annotation_id', 'created_at', 'updated_at', 'lead_time'];

/** The item's JSON_MIN record; `stableText`: fix jsonmin-stable-text (prettify.ts). */
export function jsonMinRecord(item: Item, stableText = false): JsonObject {
  const record = deepCopy(item.input);
  if (item.id !== null) setKey(record, 'id', item.id);
  for (const [name, values] of item.output) setKey(record, name, prettifyResult(values, stableText));
  setKey(record, 'annotator', annotatorOf(item.completedBy, null, true));
  setKey(record, 'annotation_id', item.annotationId);
  setKey(record, 'created_at', item.createdAt);
  setKey(record, 'updated_at', item.updatedAt);
  setKey(record, 'lead_time', item.leadTime);
  if (Object.hasOwn(item.task, 'agreement')) setKey(record, 'agreement', item.task.agreement);
  return record;
}

/**
 * Reports the key collisions of one flat record (JSON_MIN, CSV): warnings once per name and
 * export (`warned` remembers them), and the results of a control overwritten by metadata as
 * skipped in `acc`. `renamesData`: CSV renames a data key that a control shares (`_data_<key>`),
 * so only metadata collisions lose anything there.
 */
export function reportFlatCollisions(
  item: Item,
  ref: TaskRef,
  report: Report,
  acc: ItemLedger,
  warned: Set<string>,
  format: string,
  renamesData: boolean,
): void {
  const metadata = Object.hasOwn(item.task, 'agreement') ? [...FLAT_METADATA, 'agreement'] : FLAT_METADATA;
  const warnOnce = (key: string, reason: string) => {
    if (warned.has(key)) return;
    warned.add(key);
    report.warn({ ...ref, format, reason });
  };
  for (const [name, values] of item.output) {
    if (metadata.includes(name)) {
      for (const v of values)
        acc.skip(
          v,
          `control "${name}" has the name of ${format}'s "${name}" column, which overwrites its value`,
        );
    } else if (!renamesData && Object.hasOwn(item.input, name)) {
      warnOnce(
        `c:${name}`,
        `control "${name}" has the name of a data key: its value overwrites data["${name}"] in ${format} records (as in Label Studio)`,
      );
    } else if (name === 'id' && item.id !== null) {
      warnOnce('c:id', `control "id" overwrites the task id in ${format} records (as in Label Studio)`);
    }
  }
  for (const k of keysOf(item.input)) {
    if (metadata.includes(k))
      warnOnce(`d:${k}`, `data key "${k}" is overwritten by ${format}'s "${k}" column (as in Label Studio)`);
    else if (renamesData && k === 'id' && item.id !== null && !item.output.has('id'))
      warnOnce(
        'd:id',
        `data key "id" overwrites the task id in ${format}'s "id" column (as in Label Studio)`,
      );
  }
}

/**
 * Without fix jsonmin-stable-text: a warning per Choices/TextArea result that JSON_MIN/CSV write as
 * its whole value object where a one-entry value is a string (prettify.ts, br-01). Call before
 * `acc.close()`; results already skipped get no warning.
 */
export function warnUnstableShapes(item: Item, acc: ItemLedger, stable: boolean): void {
  if (stable) return;
  const pending = new Set(acc.pending());
  for (const [name, values] of item.output)
    for (const v of values)
      if (pending.has(v) && flattensToObject(v))
        acc.warn(
          v,
          `the element shape changes: this "${name}" value is written as its whole value object, a one-entry value as a string; --fix jsonmin-stable-text keeps lists`,
        );
}

export function jsonMinWriter(ctx: ExportContext): FormatWriter {
  const out = ctx.sink.open('result.json');
  const ledger = new RegionLedger(ctx, 'JSON_MIN');
  const warned = new Set<string>();
  const stable = ctx.options.fixJsonminStableText;
  let opened = false;
  return {
    async addTask(task, ref) {
      // All records of the task are built before any state changes: one that fails leaves no trace.
      let text = '';
      const items = itemsOfTask(task, ctx.schema, ref, ctx.report);
      for (const item of items) {
        text += (opened || text ? ',\n' : '[\n') + stringify(jsonMinRecord(item, stable), UJSON_PRETTY);
      }
      for (const item of items) {
        const acc = ledger.item(item, ref);
        reportFlatCollisions(item, ref, ctx.report, acc, warned, ledger.format, false);
        warnUnstableShapes(item, acc, stable === true);
        acc.close();
      }
      if (!text) return;
      opened = true;
      await out.write(text);
    },
    async finish() {
      await out.write(opened ? '\n]' : '[\n\n]');
      await out.close();
    },
  };
}
