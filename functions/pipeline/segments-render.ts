/**
 * A `latest/` render by segments (DESIGN.md "Aggregate files from segments"), in three steps that
 * a Step Functions workflow can call separately; here they run in-process:
 *  1. plan (segments.ts planSegments): which segments changed since the index;
 *  2. segment workers (renderSegment): read one segment's shards, run the existing writers over
 *     its tasks; per-task files (labels, masks, image copies) go straight to the render's
 *     PublishSinks (written only where the bytes changed; an image is fetched once for all the
 *     segment's formats, core/shared-media.ts), aggregate files are held as the segment's bodies and
 *     summaries (BRUSH_TO_COCO: with the number of items its writer converted);
 *  3. assemble (segments-merge.ts assembleFormats): merge the summaries (CSV columns, COCO id offsets, categories),
 *     lay every aggregate file out as frame + segment chunks and write it from fresh bodies and
 *     ranges of its previous version (segments-assemble.ts); per-task files of unchanged segments
 *     are carried over from the previous manifest.
 * A format whose global facts the segments cannot reproduce byte for byte (a label outside the
 * config, so categories/classes differ from the empty run; a CSV data key renamed `_data_<key>`
 * by another segment's control; two segments writing one per-task file) is returned as a
 * fallback: the caller renders it with one run over every task.
 */

import { mapLimit } from '../core/bounded-map.ts';
import type { FormatName } from '../core/config/formats.ts';
import type { LabelSchema } from '../core/config/schema.ts';
import { runExport } from '../core/export.ts';
import type { ExportOptions } from '../core/formats/options.ts';
import { WRITERS } from '../core/formats/registry.ts';
import type { FormatWriterFactory } from '../core/formats/types.ts';
import { type Item, itemsOfTask } from '../core/items.ts';
import { isJsonObject, type JsonObject, type JsonValue, keysOf, truthy } from '../core/json/value.ts';
import type { MediaAccess } from '../core/media.ts';
import type { ObjectStore } from '../core/object-store.ts';
import type { SourceTask, TaskSource } from '../core/readers/source.ts';
import { Report, type ReportJson } from '../core/report.ts';
import { SharedMedia } from '../core/shared-media.ts';
import type { ProjectPaths } from './paths.ts';
import type { PublishSink } from './publish-sink.ts';
import type { SegmentEntry, SegmentFormat, SegmentJob } from './segments.ts';
import type { CsvColumns } from './segments-codecs.ts';
import { MemorySink, SegmentSink } from './segments-sinks.ts';
import type { AggregateBody, BodySpool } from './segments-spool.ts';
import { StateTaskSource } from './state-source.ts';
import type { ZipRecords } from './zip-records.ts';

/**
 * Report entries kept per segment in the index, and in the merged report of every segment: the
 * first ones in task order, the same whatever the segmentation (a segment keeps its first entries,
 * so the first 100 of all segments in order are the export's first 100).
 */
export const SEGMENT_REPORT_ENTRIES = 100;

/** What every step needs: the project's writers' inputs and the render's sinks. */
export interface SegmentRenderContext {
  schema: LabelSchema;
  options: ExportOptions;
  /** Formats rendered by segments (all in SEGMENT_FORMATS). */
  formats: FormatName[];
  store: ObjectStore;
  paths: ProjectPaths;
  transform?: (task: JsonObject) => JsonObject | undefined;
  media?: MediaAccess;
  now: Date;
  /** The render's sink per format (`latest/<FORMAT>/`). */
  sinks: Map<FormatName, PublishSink>;
  /**
   * Where rendered segments' aggregate bodies wait for the assemble step (spoolOutput); without
   * one they are held in memory until then (the fan-out's segment workers, which store them).
   */
  spool?: BodySpool;
  /**
   * The render's zip records (projects with zips; the sinks make them): a fan-out commit loads the
   * records its workers stored into it.
   */
  zipRecords?: ZipRecords;
}

// ---- the empty run ---------------------------------------------------------------------------

/** Every format's files for zero tasks: which paths are aggregate files, and their frames. */
export interface EmptyRun {
  files: Map<FormatName, Map<string, string>>;
  report: Report;
}

const noTasks: TaskSource = {
  description: 'no tasks',
  async *tasks() {},
};

export async function emptyRun(rc: SegmentRenderContext): Promise<EmptyRun> {
  const report = new Report();
  const sinks = rc.formats.map((format) => ({ format, sink: new MemorySink() }));
  await runExport({
    source: noTasks,
    schema: rc.schema,
    targets: sinks,
    options: rc.options,
    media: rc.media,
    report,
    now: () => rc.now,
  });
  const files = new Map<FormatName, Map<string, string>>();
  for (const { format, sink } of sinks) {
    const m = new Map<string, string>();
    for (const path of sink.mem.files.keys()) m.set(path, sink.mem.text(path) ?? '');
    files.set(format, m);
  }
  return { files, report };
}

// ---- segment worker --------------------------------------------------------------------------

/** A rendered segment: per format its aggregate files' bytes and its per-task files. */
export interface SegmentOutput {
  entry: SegmentEntry;
  /** Per format, per aggregate path: the segment's writer output (text, or spooled by spoolOutput). */
  aggregate: Map<FormatName, Map<string, AggregateBody>>;
  io: { shards: number; bytes: number };
  /**
   * Per format, the media copies the segment wrote (path → SHA-256): a copy another segment
   * writes too with the same bytes (one image shown by tasks of both) is no collision. Held in
   * memory only (absent for outputs stored by fan-out workers: such a path then falls back).
   */
  copies?: Map<FormatName, Map<string, string>>;
  /**
   * Per format, the summary segments-merge.ts summarizeFormat already made from these bodies (by
   * a fan-out worker, so the commit does not read them for it): null, or why the format falls back.
   */
  summarized?: Partial<Record<FormatName, string | null>>;
}

const METADATA = ['annotator', 'annotation_id', 'created_at', 'updated_at', 'lead_time'];
const hasChat = (values: JsonValue[]) =>
  values.some((v) => isJsonObject(v) && (v.type === 'Chat' || v.type === 'chatmessage'));

/** The CSV key sets of items (the writer's scanItem). */
function scanCsv(items: Item[], into: { d: Set<string>; o: Set<string>; e: Set<string> }): void {
  for (const item of items) {
    for (const k of keysOf(item.input)) into.d.add(k);
    if (item.id !== null) into.e.add('id');
    for (const [name, values] of item.output) {
      into.o.add(name);
      if (hasChat(values)) into.e.add(`${name}_transcript`);
    }
    if (Object.hasOwn(item.task, 'agreement')) into.e.add('agreement');
    if (truthy(item.history)) into.e.add('history');
  }
}

/** Items a BRUSH_TO_COCO writer converted (its image ids); undefined once a task failed half-way. */
interface ItemCount {
  items: number | undefined;
}

/**
 * The BRUSH_TO_COCO writer, counting the items it is given (`itemsOfTask`, as it calls it): its
 * image ids are item indices, which the assemble step shifts by the items of earlier segments. A
 * task whose conversion throws may have used part of its items' ids: the count is then unknown.
 */
function countingItems(factory: FormatWriterFactory, count: ItemCount): FormatWriterFactory {
  return (ctx) => {
    const writer = factory(ctx);
    return {
      async addTask(task, ref) {
        let n: number | undefined;
        try {
          n = itemsOfTask(task, ctx.schema, ref, new Report(1)).length;
        } catch {
          n = undefined;
        }
        try {
          await writer.addTask(task, ref);
        } catch (err) {
          count.items = undefined;
          throw err;
        }
        count.items = count.items === undefined || n === undefined ? undefined : count.items + n;
      },
      finish: () => writer.finish(),
    };
  };
}

/** Reads one segment's shards and runs every format's writer over its tasks. */
export async function renderSegment(
  rc: SegmentRenderContext,
  job: SegmentJob,
  aggregatePaths: Map<FormatName, Set<string>>,
): Promise<SegmentOutput> {
  const report = new Report(SEGMENT_REPORT_ENTRIES);
  const state = new StateTaskSource(rc.store, rc.paths, {
    transform: rc.transform,
    shardKeys: Object.keys(job.shards).sort(),
  });
  const wantCsv = rc.formats.some((f) => f === 'CSV' || f === 'TSV');
  const cols = { d: new Set<string>(), o: new Set<string>(), e: new Set<string>(METADATA) };
  const source: TaskSource = {
    description: state.description,
    async *tasks(rep: Report): AsyncGenerator<SourceTask> {
      for await (const t of state.tasks(rep)) {
        if (wantCsv) {
          try {
            scanCsv(itemsOfTask(t.task, rc.schema, t.ref, new Report(1)), cols);
          } catch {
            // the writers report this task
          }
        }
        yield t;
      }
    },
  };
  const brushItems: ItemCount = { items: 0 };
  const targets = rc.formats.map((format) => ({
    format,
    sink: new SegmentSink(aggregatePaths.get(format) ?? new Set(), rc.sinks.get(format)!),
    ...(format === 'BRUSH_TO_COCO' ? { writer: countingItems(WRITERS.BRUSH_TO_COCO!, brushItems) } : {}),
  }));
  await runExport({
    source,
    schema: rc.schema,
    targets,
    options: rc.options,
    media: rc.media && new SharedMedia(rc.media),
    report,
    now: () => rc.now,
  });
  for (const { sink } of targets) await sink.flush();
  const s = (x: Set<string>) => [...x].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const csv: CsvColumns = { dataKeys: s(cols.d), outputKeys: s(cols.o), extra: s(cols.e) };
  const aggregate = new Map<FormatName, Map<string, AggregateBody>>();
  const copies = new Map<FormatName, Map<string, string>>();
  const formats: Partial<Record<FormatName, SegmentFormat>> = {};
  for (const { format, sink } of targets) {
    if (sink.copies.size > 0) copies.set(format, sink.copies);
    const m = new Map<string, AggregateBody>();
    for (const path of sink.mem.files.keys()) m.set(path, sink.mem.text(path) ?? '');
    aggregate.set(format, m);
    formats[format] = {
      files: sink.files(),
      globalSame: true,
      ...(format === 'CSV' || format === 'TSV' ? { csv } : {}),
      ...(format === 'BRUSH_TO_COCO' && brushItems.items !== undefined ? { items: brushItems.items } : {}),
    };
  }
  const r = report.toJSON();
  return {
    entry: {
      id: job.id,
      shards: job.shards,
      counts: state.counts,
      report: {
        skipped: r.skipped,
        warnings: r.warnings,
        skippedCount: r.skippedCount,
        warningCount: r.warningCount,
        ...(r.regions ? { regions: r.regions } : {}),
        ...(r.tasksWithoutAnnotations !== undefined
          ? { tasksWithoutAnnotations: r.tasksWithoutAnnotations }
          : {}),
      },
      formats,
    },
    aggregate,
    io: state.io,
    copies,
  };
}

// ---- assemble --------------------------------------------------------------------------------

/** The manifest's report and counts from the segments' (plus the empty run's report). */
export function mergeSegmentReports(
  empty: Report,
  entries: SegmentEntry[],
): { report: ReportJson; counts: { tasks: number; annotations: number } } {
  // Capped as each segment is: more entries would depend on how many segments there are.
  const report = new Report(SEGMENT_REPORT_ENTRIES);
  const base = empty.toJSON();
  for (const e of base.skipped) report.skip(e);
  for (const e of base.warnings) report.warn(e);
  report.addCounts(base);
  let skippedCount = base.skippedCount;
  let warningCount = base.warningCount;
  const counts = { tasks: 0, annotations: 0 };
  for (const s of entries) {
    // An entry another segment (or the empty run) already listed — a label config warning, raised
    // by every segment — is not counted again (review s11 F5); the rest of the segment's count is.
    const before = { skipped: report.skippedCount, warnings: report.warningCount };
    for (const e of s.report.skipped) report.skip(e);
    for (const e of s.report.warnings) report.warn(e);
    report.addCounts(s.report);
    skippedCount +=
      s.report.skippedCount - (s.report.skipped.length - (report.skippedCount - before.skipped));
    warningCount +=
      s.report.warningCount - (s.report.warnings.length - (report.warningCount - before.warnings));
    counts.tasks += s.counts.tasks;
    counts.annotations += s.counts.annotations;
  }
  const json = report.toJSON();
  return {
    report: {
      ...json,
      skippedCount,
      warningCount,
      truncated: json.truncated || skippedCount > json.skipped.length || warningCount > json.warnings.length,
    },
    counts,
  };
}

/** Renders the changed segments with bounded concurrency (the Distributed Map's job, in-process). */
export async function renderSegments(
  rc: SegmentRenderContext,
  jobs: SegmentJob[],
  aggregatePaths: Map<FormatName, Set<string>>,
  concurrency: number,
): Promise<Map<string, SegmentOutput>> {
  const outs = await mapLimit(jobs, concurrency, async (job) =>
    spoolOutput(rc, await renderSegment(rc, job, aggregatePaths)),
  );
  return new Map(outs.map((o) => [o.entry.id, o]));
}

/**
 * Moves a segment output's aggregate texts to `rc.spool` (when the render has one), so only its
 * small summaries stay in memory until the assemble step. Returns the same output, changed.
 */
export async function spoolOutput(rc: SegmentRenderContext, o: SegmentOutput): Promise<SegmentOutput> {
  if (!rc.spool) return o;
  for (const m of o.aggregate.values())
    for (const [path, body] of m) if (typeof body === 'string') m.set(path, await rc.spool.write(body));
  return o;
}

/**
 * Produces the outputs of the changed segments for assembly: renderSegments in-process, or the
 * outputs a fan-out's segment workers stored (render-fanout-commit.ts), adopting their per-task files into
 * `rc.sinks`.
 */
export type SegmentRunner = (
  rc: SegmentRenderContext,
  jobs: SegmentJob[],
  aggregatePaths: Map<FormatName, Set<string>>,
) => Promise<Map<string, SegmentOutput>>;
