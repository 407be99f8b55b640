/**
 * The files of one `latest/` render: the formats in SEGMENT_FORMATS by segments (plan → segment
 * workers → assemble, segments-render.ts), reading only the changed segments' shards when the
 * previous render's segment index can be reused; every other format (and a segment format that
 * falls back) by one run over every task (export-run.ts). Returns what the manifest needs and the
 * new segment index, which the caller writes before the manifest.
 */
import type { FormatName } from '../core/config/formats.ts';
import type { LabelSchema } from '../core/config/schema.ts';
import { parseExportOptions } from '../core/formats/options.ts';
import type { JsonObject } from '../core/json/value.ts';
import { Report, type ReportJson } from '../core/report.ts';
import type { ProjectConfig } from './config.ts';
import type { PipelineContext } from './context.ts';
import {
  type ExportRunInput,
  type ExportRunResult,
  type FormatResult,
  loadSchema,
  planFormats,
  projectMedia,
  runProjectExport,
} from './export-run.ts';
import type { WrittenFile } from './hashing-sink.ts';
import { readJson } from './object-text.ts';
import { DEFAULT_HOLD_BYTES, PublishSink } from './publish-sink.ts';
import { DEFAULT_SEGMENT_SHARDS, planSegments, type SegmentIndex, segmentIndexKey } from './segments.ts';
import type { AssembleIo } from './segments-assemble.ts';
import { codecOf, SEGMENT_FORMATS, sha256 } from './segments-codecs.ts';
import { assembleFormats } from './segments-merge.ts';
import {
  emptyRun,
  mergeSegmentReports,
  renderSegments,
  SEGMENT_REPORT_ENTRIES,
  type SegmentRenderContext,
  type SegmentRunner,
} from './segments-render.ts';
import { BodySpool } from './segments-spool.ts';
import type { ProjectStore } from './state.ts';
import { type ZipRecords, zipRecording } from './zip-records.ts';

export interface LatestFilesInput {
  ps: ProjectStore;
  now: Date;
  transform?: (task: JsonObject) => JsonObject | undefined;
  /** The previous manifest's files by format and path (empty: write everything). */
  previous: Map<string, Map<string, WrittenFile>>;
  /** The previous manifest's id when its files may be reused (undefined: render every segment). */
  reuseFrom?: string;
  report: Report;
  segmentShards?: number;
  minMultipartBytes?: number;
  minPartBytes?: number;
  concurrency?: number;
  /** Where the changed segments come from (default: renderSegments here, `concurrency` at a time). */
  segments?: SegmentRunner;
  /** Key prefix the formats go under, each to `<prefix><FORMAT>/` (default: the project's `latest/`; snapshots). */
  prefix?: string;
  /** The formats to render (default: the project's `formats`; snapshots). */
  formats?: readonly FormatName[];
  /** Runs the formats rendered over every task (default: runProjectExport over the state; snapshots read their snapshot.json). */
  wholeRun?: (input: ExportRunInput) => Promise<ExportRunResult>;
  /**
   * The label config digest the render answers for (its manifest records it): every step renders
   * with that config or fails with LabelConfigChangedError (an upload during the render).
   */
  labelConfigSha256?: string;
  /** Where small per-task files' zip records are made as they are written (projects with zips). */
  zipRecords?: ZipRecords;
}

export interface LatestFiles {
  formats: FormatResult[];
  counts: { tasks: number; annotations: number };
  report: ReportJson;
  options: ReturnType<typeof parseExportOptions>;
  sinks: PublishSink[];
  /** Keys written by sinks whose output was discarded (a fallback re-render): to delete unless listed. */
  discarded: string[];
  index?: SegmentIndex;
  io: {
    shards: number;
    bytes: number;
    segments: number;
    segmentsRendered: number;
    fallback: Record<string, string>;
    assemble: AssembleIo;
  };
}

const plain = (_k: string, v: unknown) =>
  v instanceof Map ? [...v.entries()] : v instanceof Set ? [...v.values()] : v;

/** What segment bytes depend on besides the tasks. */
export function fingerprint(
  schema: LabelSchema,
  formats: FormatName[],
  options: unknown,
  project: ProjectConfig,
  segmentShards: number,
): string {
  return sha256(
    JSON.stringify(
      {
        v: 1,
        formats,
        options,
        schema,
        serialization: project.latest.serialization,
        segmentShards,
        // Reused segments must have read their media under the same policy (image sizes, copies).
        media: project.media,
      },
      plain,
    ),
  );
}

export async function renderLatestFiles(ctx: PipelineContext, input: LatestFilesInput): Promise<LatestFiles> {
  const { report } = input;
  const ps = input.prefix === undefined ? input.ps : withPrefix(input.ps, input.prefix);
  const project = ps.project;
  const schema = await loadSchema(ctx, project, input.labelConfigSha256);
  const { run, skipped } = planFormats(schema, input.formats ?? project.formats);
  const options = parseExportOptions(project.options);
  const segFormats = run.filter((f) => SEGMENT_FORMATS.has(f)).sort();
  const whole: FormatName[] = run.filter((f) => !SEGMENT_FORMATS.has(f));
  const segmentShards = input.segmentShards ?? DEFAULT_SEGMENT_SHARDS;
  // A format re-rendered after a discarded segment pass writes every file (the pass may have
  // overwritten keys the previous manifest names).
  const rewrite = new Set<FormatName>();
  // The one-pass run's sinks hold small files (DEFAULT_HOLD_BYTES) so a label written once per
  // annotation is compared and written once; segments' sinks get final bytes from SegmentSink.
  const newSink = (format: FormatName, hold = false) =>
    new PublishSink(
      ps.store,
      ps.paths.latestFormat(format),
      rewrite.has(format) ? new Map() : (input.previous.get(format) ?? new Map()),
      {
        report,
        format,
        ...(hold ? { holdBytes: DEFAULT_HOLD_BYTES } : {}),
        ...zipRecording(input.zipRecords, format),
      },
    );
  const sinks = new Map<FormatName, PublishSink>();
  const io: LatestFiles['io'] = {
    shards: 0,
    bytes: 0,
    segments: 0,
    segmentsRendered: 0,
    fallback: {},
    assemble: { readBytes: 0, reads: 0, uploadedBytes: 0, copiedBytes: 0, parts: 0 },
  };
  const discarded: string[] = [];
  let index: SegmentIndex | undefined;
  let merged: { report: ReportJson; counts: { tasks: number; annotations: number } } | undefined;
  const allSinks = () => [...sinks.values()];
  // Rendered segments' aggregate bodies wait here (a local folder, /tmp on Lambda), not in memory.
  let spool: BodySpool | undefined;
  try {
    if (segFormats.length > 0) {
      for (const f of segFormats) sinks.set(f, newSink(f));
      spool = await BodySpool.create();
      const fp = fingerprint(schema, segFormats, options, project, segmentShards);
      const rc: SegmentRenderContext = {
        schema,
        options,
        formats: segFormats,
        store: ps.store,
        paths: ps.paths,
        transform: input.transform,
        media: projectMedia(ctx, project),
        now: input.now,
        sinks,
        spool,
        ...(input.zipRecords ? { zipRecords: input.zipRecords } : {}),
      };
      const empty = await emptyRun(rc);
      let prevIndex: SegmentIndex | undefined;
      if (input.reuseFrom) {
        const doc = (await readJson<SegmentIndex>(ps.store, segmentIndexKey(ps.paths.state)))?.value;
        if (doc && doc.renderId === input.reuseFrom && doc.fingerprint === fp && reusable(doc, empty.files))
          prevIndex = doc;
      }
      // A format the reused index says fell back has no layouts to reuse: it runs over every
      // task again (below) and the other formats stay by segments. Its sink stays open during the
      // segment pass only to receive per-task files a fan-out worker wrote for it (discarded).
      const carried = new Map<FormatName, string>();
      for (const [f, why] of Object.entries(prevIndex?.fallback ?? {}) as [FormatName, string][])
        if (empty.files.has(f)) carried.set(f, why);
      if (carried.size > 0) {
        rc.formats = segFormats.filter((f) => !carried.has(f));
        for (const f of carried.keys()) empty.files.delete(f);
      }
      const aggregatePaths = new Map([...empty.files].map(([f, m]) => [f, new Set(m.keys())]));
      const plan = await planSegments(ps.store, ps.paths.taskShards, segmentShards, prevIndex);
      const jobs = plan.segments.filter((s) => plan.changed.has(s.id));
      const rendered = input.segments
        ? await input.segments(rc, jobs, aggregatePaths)
        : await renderSegments(rc, jobs, aggregatePaths, input.concurrency ?? 2);
      // Keys a fan-out worker wrote for an output the commit discarded: deleted unless listed.
      for (const sink of sinks.values()) discarded.push(...sink.distrustedKeys());
      for (const o of rendered.values()) {
        io.shards += o.io.shards;
        io.bytes += o.io.bytes;
      }
      io.segments = plan.segments.length;
      io.segmentsRendered = rendered.size;
      const asm = await assembleFormats({
        rc,
        plan,
        empty,
        rendered,
        previous: prevIndex,
        previousFiles: input.previous,
        minMultipartBytes: input.minMultipartBytes,
        minPartBytes: input.minPartBytes,
      });
      io.assemble = { ...asm.io, spoolPeakBytes: spool.peakBytes };
      for (const [f, why] of carried) {
        io.fallback[f] = why;
        const sink = sinks.get(f)!;
        // Files a fan-out worker wrote for it: the run below compares against the manifest, not them.
        if (sink.opened.length > 0) {
          discarded.push(...sink.opened);
          rewrite.add(f);
        }
        sinks.delete(f);
        whole.push(f);
      }
      for (const [f, why] of asm.fallback) {
        ctx.log('warn', 'format rendered over every task', { project: project.id, format: f, reason: why });
        io.fallback[f] = why;
        discarded.push(...sinks.get(f)!.opened);
        sinks.delete(f);
        rewrite.add(f);
        whole.push(f);
      }
      const fallback = Object.fromEntries([...carried, ...asm.fallback]);
      index = {
        format: 1,
        renderId: '',
        fingerprint: fp,
        segments: asm.segments,
        files: asm.files,
        ...(Object.keys(fallback).length > 0 ? { fallback } : {}),
      };
      merged = mergeSegmentReports(empty.report, asm.segments);
    }
    let wholeResult: Awaited<ReturnType<typeof runProjectExport>> | undefined;
    if (whole.length > 0) {
      wholeResult = await (input.wholeRun ?? ((i: ExportRunInput) => runProjectExport(ctx, i)))({
        project,
        store: ps.store,
        prefix: ps.paths.latest,
        formats: whole,
        now: input.now,
        report,
        transform: input.transform,
        labelConfigSha256: input.labelConfigSha256,
        sinkFor: (format) => {
          const sink = newSink(format, true);
          sinks.set(format, sink);
          return sink;
        },
      });
      // Held small files (newSink's hold) not yet written by the run itself (runProjectExport does).
      for (const f of whole) await sinks.get(f)?.flush();
      io.shards += wholeResult.io.shards;
      io.bytes += wholeResult.io.bytes;
    }
    const formats: FormatResult[] = [];
    for (const f of run) {
      const sink = sinks.get(f);
      if (sink) formats.push({ format: f, status: 'completed', files: sink.files });
    }
    formats.push(...skipped);
    let reportJson = report.toJSON();
    if (merged) {
      // Capped as the segments' merged report is (review s11 F6): the manifest lists the first
      // SEGMENT_REPORT_ENTRIES entries, the segments' first, then the render's own (formats that
      // fell back, output files). Counts stay the larger of the two: a format that fell back ran
      // over every task in its segments too, so its run repeats what they counted.
      const all = new Report(SEGMENT_REPORT_ENTRIES);
      for (const e of merged.report.skipped) all.skip(e);
      for (const e of merged.report.warnings) all.warn(e);
      for (const e of reportJson.skipped) all.skip(e);
      for (const e of reportJson.warnings) all.warn(e);
      // A format that fell back to one run over every task counts from that run, not its segments.
      const whole = new Set(Object.keys(reportJson.regions ?? {}));
      all.addCounts({
        regions: Object.fromEntries(
          Object.entries(merged.report.regions ?? {}).filter(([format]) => !whole.has(format)),
        ),
        // A run over every task counted the left-out tasks of every segment already.
        tasksWithoutAnnotations:
          reportJson.tasksWithoutAnnotations === undefined
            ? merged.report.tasksWithoutAnnotations
            : undefined,
      });
      all.addCounts(reportJson);
      const j = all.toJSON();
      const skippedCount = Math.max(j.skippedCount, merged.report.skippedCount);
      const warningCount = Math.max(j.warningCount, merged.report.warningCount);
      reportJson = {
        ...j,
        skippedCount,
        warningCount,
        truncated: j.truncated || skippedCount > j.skipped.length || warningCount > j.warnings.length,
      };
    }
    return {
      formats,
      counts: merged?.counts ?? wholeResult?.counts ?? { tasks: 0, annotations: 0 },
      report: reportJson,
      options,
      sinks: allSinks(),
      discarded,
      index,
      io,
    };
  } catch (err) {
    (err as { written?: string[] }).written = [...discarded, ...allSinks().flatMap((s) => s.opened)];
    throw err;
  } finally {
    await spool?.dispose();
  }
}

/** `ps` with `latest/` (and `latest/<FORMAT>/`, where the assemble step writes) moved to `prefix`. */
function withPrefix(ps: ProjectStore, prefix: string): ProjectStore {
  return { ...ps, paths: { ...ps.paths, latest: prefix, latestFormat: (format) => `${prefix}${format}/` } };
}

/**
 * Whether an index has what a render by segments reuses: every format's summaries and layouts,
 * except formats it records as fallen back (run over every task again), not all of them.
 */
export function reusable(doc: SegmentIndex, empty: Map<FormatName, Map<string, string>>): boolean {
  // Formats that fell back are run over every task again; with nothing else left, render anew.
  if ([...empty.keys()].every((format) => doc.fallback?.[format] !== undefined)) return false;
  for (const [format, files] of empty) {
    if (doc.fallback?.[format] !== undefined) continue;
    if (doc.segments.some((s) => !s.formats[format])) return false;
    for (const path of files.keys())
      if (codecOf(format, path) !== 'global' && !doc.files[format]?.[path]) return false;
  }
  return true;
}
