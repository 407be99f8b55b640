/**
 * Segment step of a render fan-out (DESIGN.md "Render fan-out"; the job's objects:
 * render-fanout-job.ts): renderSegmentJobs renders jobs (one ItemBatcher batch) and stores each
 * output as `_state/render-fanout/<owner>/segments/<segment>.json` (aggregate bodies, summaries,
 * per-task files written). The child's sinks compare against the plan's previous slice of the
 * segment and carry unchanged entries (version ids included) over. Each job renews the render
 * lock (render-lock.ts) before it renders: a job whose lock was taken over throws
 * RenderLockLostError before writing. segmentContext, the writer inputs of the formats rendered by
 * segments, also serves the plan (render-fanout-plan.ts).
 */
import { randomUUID } from 'node:crypto';
import type { FormatName } from '../core/config/formats.ts';
import { parseExportOptions } from '../core/formats/options.ts';
import { Report } from '../core/report.ts';
import type { ProjectConfig } from './config.ts';
import { snapshotOptionsSchema } from './config.ts';
import type { PipelineContext } from './context.ts';
import { loadSchema, planFormats, projectMedia } from './export-run.ts';
import type { WrittenFile } from './hashing-sink.ts';
import { readJson } from './object-text.ts';
import { PublishSink } from './publish-sink.ts';
import { type InflightDoc, plannedLabelConfig } from './render.ts';
import {
  attemptKey,
  type FanoutRef,
  fanoutPrefix,
  JSON_TYPE,
  type PreviousSlice,
  previousSliceKey,
  type StoredSegment,
  segmentKey,
  storedSegment,
  supersededPaths,
} from './render-fanout-job.ts';
import { renewLock } from './render-lock.ts';
import type { SegmentJob } from './segments.ts';
import { SEGMENT_FORMATS } from './segments-codecs.ts';
import { summarizeOutput } from './segments-merge.ts';
import { emptyRun, renderSegment, type SegmentRenderContext } from './segments-render.ts';
import { snapshotTransform } from './snapshot-filter.ts';
import { type ProjectStore, projectStore } from './state.ts';
import { WORKER_RECORDED_BYTES, ZipRecords, zipRecording } from './zip-records.ts';

const LS_EXPORT_DEFAULTS = snapshotOptionsSchema.parse(undefined);
/**
 * The render's writer inputs for the formats rendered by segments; each format's sink compares
 * with `previous` (by format, path → previous manifest entry; none: writes everything).
 */
export async function segmentContext(
  ctx: PipelineContext,
  ps: ProjectStore,
  now: Date,
  report: Report,
  previous: Partial<Record<FormatName, WrittenFile[]>> = {},
  labelConfigSha256?: string,
  /** Where the sinks make small files' zip records (a worker of a project with zips). */
  zipRecords?: ZipRecords,
): Promise<SegmentRenderContext & { all: FormatName[] }> {
  const project = ps.project;
  const schema = await loadSchema(ctx, project, labelConfigSha256);
  const { run } = planFormats(schema, project.formats);
  const formats = run.filter((f) => SEGMENT_FORMATS.has(f)).sort();
  const sinks = new Map<FormatName, PublishSink>();
  for (const f of formats)
    sinks.set(
      f,
      new PublishSink(
        ps.store,
        ps.paths.latestFormat(f),
        new Map((previous[f] ?? []).map((x) => [x.path, x])),
        { report, format: f, ...zipRecording(zipRecords, f) },
      ),
    );
  return {
    schema,
    options: parseExportOptions(project.options),
    formats,
    all: run,
    store: ps.store,
    paths: ps.paths,
    transform: project.latest.serialization === 'export' ? snapshotTransform(LS_EXPORT_DEFAULTS) : undefined,
    media: projectMedia(ctx, project),
    now,
    sinks,
    ...(zipRecords ? { zipRecords } : {}),
  };
}

/**
 * Segment step: renders `jobs` (one after the other) and stores each output. Before each job it
 * renews the render lock (throws RenderLockLostError, having written nothing for that job, when
 * `ref.owner` no longer holds it). Per-task files go to `latest/<FORMAT>/`, written only where
 * their bytes differ from the plan's previous slice of the segment; name-error skips of those
 * files join the segment's report. Returns counts.
 */
export async function renderSegmentJobs(
  ctx: PipelineContext,
  project: ProjectConfig,
  ref: Pick<FanoutRef, 'owner' | 'startedAt'>,
  jobs: SegmentJob[],
): Promise<{ segments: number; tasks: number; shardsRead: number; bytesRead: number }> {
  const ps = projectStore(ctx, project);
  const out = { segments: 0, tasks: 0, shardsRead: 0, bytesRead: 0 };
  // The label config the plan read (its record): a worker finding another one fails, so the
  // commit never splices segments rendered with two configs (LabelConfigChangedError).
  const recorded = (await readJson<InflightDoc>(ps.store, ps.paths.renderInflight))?.value;
  const labelConfig = plannedLabelConfig(recorded, ref.owner);
  for (const job of jobs) {
    await renewLock(ctx, ps, ref.owner);
    // Marked before anything is written under latest/: if this attempt dies before its document is
    // stored, the commit knows some files were written that no document lists.
    const attempt = randomUUID();
    await ps.store.put(attemptKey(ps, ref.owner, job.id, attempt), '', JSON_TYPE);
    const slice = (await readJson<PreviousSlice>(ps.store, previousSliceKey(ps, ref.owner, job.id)))?.value;
    const report = new Report();
    const now = new Date(ref.startedAt);
    // The zip records of the files this job writes, stored for the commit (zip-records.ts).
    const zipRecords = project.latest.zip
      ? await ZipRecords.create(now, { maxBytes: WORKER_RECORDED_BYTES })
      : undefined;
    try {
      const rc = await segmentContext(ctx, ps, now, report, slice?.files, labelConfig, zipRecords);
      if (job.skip?.length) rc.formats = rc.formats.filter((f) => !job.skip!.includes(f));
      const empty = await emptyRun(rc);
      const aggregatePaths = new Map([...empty.files].map(([f, m]) => [f, new Set(m.keys())]));
      const o = await renderSegment(rc, job, aggregatePaths);
      // Summarized here, so the commit reads no body for the counts (COCO's would be read twice).
      await summarizeOutput(o, rc.formats, empty);
      const r = report.toJSON();
      o.entry.report.skipped.push(...r.skipped);
      o.entry.report.warnings.push(...r.warnings);
      o.entry.report.skippedCount += r.skippedCount;
      o.entry.report.warningCount += r.warningCount;
      const doc = await storedSegment(ps, ref.owner, job, o, rc);
      if (zipRecords) {
        const stored = await zipRecords.storeRecords(
          ps.store,
          `${fanoutPrefix(ps, ref.owner)}segments/${job.id}.${randomUUID()}.zip-`,
        );
        if (Object.keys(stored).length) doc.zipRecords = stored;
      }
      // A retry (this job's document is already there): what the earlier attempts wrote and this one
      // did not may be stale objects under latest/; the commit is told (StoredSegment.superseded).
      const earlier = (await readJson<StoredSegment>(ps.store, segmentKey(ps, ref.owner, job.id)))?.value;
      const own = earlier?.owner === ref.owner ? earlier : undefined;
      const superseded = supersededPaths(own, doc);
      if (superseded) doc.superseded = superseded;
      doc.attempts = [...(own?.attempts ?? []), attempt];
      await ps.store.put(segmentKey(ps, ref.owner, job.id), JSON.stringify(doc), JSON_TYPE);
      out.segments++;
      out.tasks += o.entry.counts.tasks;
      out.shardsRead += o.io.shards;
      out.bytesRead += o.io.bytes;
    } finally {
      await zipRecords?.dispose();
    }
  }
  return out;
}
