/**
 * Runs one or more format writers over a task source in a single pass. Memory holds one task at a
 * time plus what each writer keeps (writers that need the whole export first, such as CSV's column
 * set or COCO's categories, spool their output).
 */
import type { FormatName } from './config/formats.ts';
import type { LabelSchema } from './config/schema.ts';
import type { ExportOptions } from './formats/options.ts';
import { WRITERS } from './formats/registry.ts';
import type { FormatWriter, OutputSink } from './formats/types.ts';
import type { MediaAccess } from './media.ts';
import type { TaskSource } from './readers/source.ts';
import { Report } from './report.ts';

export class UnsupportedFormatError extends Error {
  constructor(readonly format: string) {
    super(`format ${format} is not implemented`);
    this.name = 'UnsupportedFormatError';
  }
}

export interface ExportTarget {
  format: FormatName;
  sink: OutputSink;
}

export interface RunExportInput {
  source: TaskSource;
  schema: LabelSchema;
  targets: ExportTarget[];
  options: ExportOptions;
  media?: MediaAccess;
  now?: () => Date;
  report?: Report;
  /** Called every few hundred tasks with the number read so far. */
  onProgress?: (tasksRead: number) => void;
}

export interface ExportStats {
  tasks: number;
  report: Report;
}

export async function runExport(input: RunExportInput): Promise<ExportStats> {
  const report = input.report ?? new Report();
  const now = input.now ?? (() => new Date());
  const writers: FormatWriter[] = input.targets.map(({ format, sink }) => {
    const factory = WRITERS[format];
    if (!factory) throw new UnsupportedFormatError(format);
    return factory({ schema: input.schema, sink, report, options: input.options, media: input.media, now });
  });
  let tasks = 0;
  for await (const { task, ref } of input.source.tasks(report)) {
    for (const w of writers) await w.addTask(task, ref);
    tasks++;
    if (input.onProgress && tasks % 500 === 0) input.onProgress(tasks);
  }
  for (const w of writers) await w.finish();
  input.onProgress?.(tasks);
  return { tasks, report };
}
