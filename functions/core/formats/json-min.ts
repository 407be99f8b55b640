/**
 * JSON_MIN: one flat record per item — task data, the id, each control's prettified value, and the
 * annotation's metadata (converter spec §7.2).
 */
import { annotatorOf, itemsOfTask } from '../items.ts';
import { stringify, UJSON_PRETTY } from '../json/serialize.ts';
import { deepCopy, type JsonObject, setKey } from '../json/value.ts';
import { prettifyResult } from './prettify.ts';
import type { ExportContext, FormatWriter } from './types.ts';

export function jsonMinRecord(item: ReturnType<typeof itemsOfTask>[number]): JsonObject {
  const record = deepCopy(item.input);
  if (item.id !== null) setKey(record, 'id', item.id);
  for (const [name, values] of item.output) setKey(record, name, prettifyResult(values));
  setKey(record, 'annotator', annotatorOf(item.completedBy, null, true));
  setKey(record, 'annotation_id', item.annotationId);
  setKey(record, 'created_at', item.createdAt);
  setKey(record, 'updated_at', item.updatedAt);
  setKey(record, 'lead_time', item.leadTime);
  if (Object.hasOwn(item.task, 'agreement')) setKey(record, 'agreement', item.task.agreement);
  return record;
}

export function jsonMinWriter(ctx: ExportContext): FormatWriter {
  const out = ctx.sink.open('result.json');
  let opened = false;
  return {
    async addTask(task, ref) {
      // All records of the task are built before any state changes: one that fails leaves no trace.
      let text = '';
      for (const item of itemsOfTask(task, ctx.schema, ref, ctx.report)) {
        text += (opened || text ? ',\n' : '[\n') + stringify(jsonMinRecord(item), UJSON_PRETTY);
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
