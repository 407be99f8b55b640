/**
 * JSON: the tasks as Label Studio exports them, one record per task at column 0 inside `[` … `]`,
 * ujson layout (docs/label-studio-behaviour.md#json, directory mode). A single export file given as input is copied
 * byte for byte by the caller instead (the reference's file mode).
 */
import { stringify, UJSON_PRETTY } from '../json/serialize.ts';
import type { ExportContext, FormatWriter } from './types.ts';

export function jsonWriter(ctx: ExportContext): FormatWriter {
  const out = ctx.sink.open('result.json');
  let opened = false;
  return {
    async addTask(task) {
      // Serialized before any state changes: a task that fails here leaves no trace in the file.
      const text = (opened ? ',\n' : '[\n') + stringify(task, UJSON_PRETTY);
      opened = true;
      await out.write(text);
    },
    async finish() {
      await out.write(opened ? '\n]' : '[\n\n]');
      await out.close();
    },
  };
}
