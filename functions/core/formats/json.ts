/**
 * JSON: the tasks as Label Studio exports them, one record per task at column 0 inside `[` … `]`,
 * ujson layout (converter spec §7.1, directory mode). A single export file given as input is copied
 * byte for byte by the caller instead (the reference's file mode).
 */
import { stringify, UJSON_PRETTY } from '../json/serialize.ts';
import type { ExportContext, FormatWriter } from './types.ts';

export function jsonWriter(ctx: ExportContext): FormatWriter {
  const out = ctx.sink.open('result.json');
  let opened = false;
  return {
    async addTask(task) {
      const head = opened ? ',\n' : '[\n';
      opened = true;
      await out.write(head + stringify(task, UJSON_PRETTY));
    },
    async finish() {
      await out.write(opened ? '\n]' : '[\n\n]');
      await out.close();
    },
  };
}
