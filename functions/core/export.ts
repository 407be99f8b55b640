/**
 * Runs one or more format writers over a task source in a single pass. Memory holds one task at a
 * time plus what each writer keeps (writers that need the whole export first, such as CSV's column
 * set or COCO's categories, spool their output).
 *
 * One task never fails a run: an unexpected exception while a writer converts a task (a RangeError,
 * a TypeError on data no check foresaw) is reported for that task and format, and the run goes on
 * with the next task. What the writer had already written for that task stays: JSON, JSON_MIN, CSV,
 * CONLL2003 and the COCO-family annotation spools build a task's text first and write it in one
 * call, so they keep nothing of it; writers with one file per item or region (brush masks, YOLO
 * labels, VOC XML) keep the complete files of the items converted before the failure. Output
 * failures (a sink that cannot write, a full disk: output-failure.ts) still fail the run, since the
 * export could not be complete.
 */
import type { FormatName } from './config/formats.ts';
import type { LabelSchema } from './config/schema.ts';
import type { ExportOptions } from './formats/options.ts';
import { WRITERS } from './formats/registry.ts';
import type { FormatWriter, FormatWriterFactory, OutputSink } from './formats/types.ts';
import { hasKeptAnnotation } from './items.ts';
import type { MediaAccess } from './media.ts';
import { guardMedia, guardSink, isOutputFailure } from './output-failure.ts';
import type { TaskSource } from './readers/source.ts';
import { Report, reasonOf } from './report.ts';
import { PerTaskMedia, SharedMedia } from './shared-media.ts';
import { TaskIdCheck } from './task-ids.ts';

export class UnsupportedFormatError extends Error {
  constructor(readonly format: string) {
    super(`format ${format} is not implemented`);
    this.name = 'UnsupportedFormatError';
  }
}

export interface ExportTarget {
  /** A built-in format's name, or another registry's (with `writer`). */
  format: FormatName | (string & {});
  sink: OutputSink;
  /** The format's writer when it is not a built-in one (a test-local registry's); default: WRITERS[format]. */
  writer?: FormatWriterFactory;
  /** This target's options when they differ from the run's (the CLI's per-format `imageDir`). */
  options?: ExportOptions;
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
  /**
   * Warn about task ids that are not non-negative integers or repeat within this run
   * (core/task-ids.ts); default true. Warnings only: the output is the same either way.
   */
  checkTaskIds?: boolean;
}

export interface ExportStats {
  tasks: number;
  report: Report;
}

/** Task keys only the JSON format reads (it writes tasks whole). */
const UNREAD_BY_BUILT_IN_FORMATS: ReadonlySet<string> = new Set(['predictions', 'drafts']);

export async function runExport(input: RunExportInput): Promise<ExportStats> {
  const report = input.report ?? new Report();
  const now = input.now ?? (() => new Date());
  // Several formats: a task's images are fetched once for all of them (unless the caller shares already).
  const perTask =
    input.media && input.targets.length > 1 && !(input.media instanceof SharedMedia)
      ? new PerTaskMedia(input.media)
      : undefined;
  // Media failures are marked as the task's, so they are told from the sink's (output-failure.ts).
  const shared = perTask ?? input.media;
  const media = shared && guardMedia(shared);
  const writers: Array<{ format: string; writer: FormatWriter }> = input.targets.map(
    ({ format, sink, writer, options }) => {
      const factory = writer ?? WRITERS[format as FormatName];
      if (!factory) throw new UnsupportedFormatError(format);
      const ctx = {
        schema: input.schema,
        sink: guardSink(sink),
        report,
        options: options ?? input.options,
        now,
        format,
      };
      return { format, writer: factory({ ...ctx, media }) };
    },
  );
  let tasks = 0;
  if (input.options.onlyAnnotated) report.tasksWithoutAnnotations ??= 0;
  // No built-in format but JSON reads a task's predictions or drafts: the reader may skip them.
  const fullTasks = input.targets.some((t) => t.writer !== undefined || t.format === 'JSON');
  const readOptions = fullTasks ? {} : { unreadKeys: UNREAD_BY_BUILT_IN_FORMATS };
  const ids = input.checkTaskIds === false ? undefined : new TaskIdCheck(report);
  for await (const { task, ref } of input.source.tasks(report, readOptions)) {
    perTask?.next();
    ids?.check(task.id, ref);
    // onlyAnnotated (--only-annotated): a task no one annotated is left out and counted.
    if (input.options.onlyAnnotated && !hasKeptAnnotation(task)) {
      report.tasksWithoutAnnotations = (report.tasksWithoutAnnotations ?? 0) + 1;
      continue;
    }
    for (const { format, writer } of writers) {
      try {
        await writer.addTask(task, ref);
      } catch (err) {
        if (isOutputFailure(err)) throw err;
        report.skip({
          ...ref,
          reason: `${format}: the task could not be converted and is left out: ${reasonOf(err)}`,
        });
      }
    }
    tasks++;
    if (input.onProgress && tasks % 500 === 0) input.onProgress(tasks);
  }
  for (const { writer } of writers) await writer.finish();
  input.onProgress?.(tasks);
  return { tasks, report };
}
