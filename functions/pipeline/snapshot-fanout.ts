/**
 * A snapshot fanned out over separate invocations (DESIGN.md "Render fan-out", job kind
 * `snapshot`): the render state machine's Plan, segment batches and Commit with a snapshot job
 * instead of a `latest/` render. The engine is the in-process one (segments-snapshot.ts): the
 * workers render segments with the same `renderSegment` and the snapshot's transform, the commit
 * runs `renderSnapshot` with their stored outputs, so the snapshot has the same bytes.
 *  - planSnapshot reads the export record (name, snapshot options, formats, created_at) and writes
 *    every segment of the state as a job (`_state/render-fanout/<owner>/items.json`). No render
 *    lock and no in-flight record: a snapshot writes only under `snapshots/<name>/`, a folder its
 *    record reserved, and reads the state as an in-process snapshot does.
 *  - renderSnapshotSegmentJobs renders jobs into `snapshots/<name>/<FORMAT>/` (per-task files) and
 *    stores each output with the segment's `snapshot.json` body
 *    (`_state/render-fanout/<owner>/segments/<id>.json`).
 *  - commitSnapshotFanout runs renderSnapshot with the stored outputs (a segment with none, or
 *    stored for other shard ETags, is rendered in the commit): `snapshot.json` from the bodies,
 *    formats assembled, falling-back formats from `snapshot.json`, zips, the create-only manifest
 *    last; then completes the export record and deletes the job's objects. A snapshot that has its
 *    manifest already is not rewritten (its record is completed from it).
 *  - abortSnapshot (the Catch) deletes the job's objects; without a manifest it deletes what the
 *    workers wrote under the snapshot's prefix (its reservation `export.json` kept) and marks the
 *    record `failed`; with one (the commit failed after it) it completes the record from it; an
 *    export deleted meanwhile is left alone.
 */
import { randomUUID } from 'node:crypto';
import type { FormatName } from '../core/config/formats.ts';
import { parseExportOptions } from '../core/formats/options.ts';
import { Report } from '../core/report.ts';
import type { ProjectConfig } from './config.ts';
import type { PipelineContext } from './context.ts';
import { ExportNotFoundError } from './errors.ts';
import { loadSchema, planFormats, projectMedia } from './export-run.ts';
import { type ExportRecord, getRecord } from './exports-records.ts';
import { completeSnapshotRecord, failSnapshotRecord, recordSnapshotOptions } from './exports-worker.ts';
import { loadLabelConfig } from './label-config.ts';
import { readJson } from './object-text.ts';
import { PublishSink } from './publish-sink.ts';
import {
  adoptFiles,
  type FanoutRef,
  type FanoutSnapshot,
  fanoutPrefix,
  removeFanoutJob,
  type SegmentFile,
  STORED_SEGMENT_FORMAT,
  type StoredSegment,
  sameShards,
  segmentKey,
  storedAggregate,
  storedSegment,
} from './render-fanout-job.ts';
import type { PlanResult } from './render-fanout-plan.ts';
import { DEFAULT_SEGMENT_SHARDS, planSegments, type SegmentJob } from './segments.ts';
import { SEGMENT_FORMATS } from './segments-codecs.ts';
import { summarizeOutput } from './segments-merge.ts';
import { emptyRun, renderSegment, type SegmentRenderContext } from './segments-render.ts';
import {
  captureTransform,
  renderSnapshot,
  type SnapshotBodyText,
  type StoredSnapshotSegments,
  serializeSegment,
  snapshotBody,
} from './segments-snapshot.ts';
import { completedSnapshot, type RenderedSnapshot } from './snapshot.ts';
import { snapshotTransform } from './snapshot-filter.ts';
import { type ProjectStore, projectStore } from './state.ts';
import { WORKER_RECORDED_BYTES, ZipRecords, zipRecording } from './zip-records.ts';

const JSON_TYPE = { contentType: 'application/json' };

/** A stored segment of a snapshot with no format by segments: only its `snapshot.json` body. */
type StoredBody = Pick<StoredSegment, 'format' | 'owner' | 'job'> & { snapshot: SnapshotBodyText };

/**
 * Plan step of a snapshot job: every segment of the state becomes an item. Returns `up-to-date`
 * (no items) when the record is completed already. Throws ExportNotFoundError for an unknown
 * export id.
 */
export async function planSnapshot(
  ctx: PipelineContext,
  project: ProjectConfig,
  options: { owner: string; exportId: number; segmentShards?: number },
): Promise<PlanResult> {
  const ps = projectStore(ctx, project);
  const record = await getRecord(ctx, project, options.exportId);
  if (record.status === 'completed') return { project: project.id, status: 'up-to-date', segments: 0 };
  const segmentShards = options.segmentShards ?? DEFAULT_SEGMENT_SHARDS;
  const plan = await planSegments(ps.store, ps.paths.taskShards, segmentShards, undefined);
  const itemsKey = `${fanoutPrefix(ps, options.owner)}items.json`;
  await ps.store.put(itemsKey, JSON.stringify(plan.segments), JSON_TYPE);
  return {
    status: 'planned',
    ref: {
      kind: 'snapshot',
      snapshot: {
        exportId: record.id,
        name: record.snapshot.name,
        options: recordSnapshotOptions(record),
        formats: record.converted_formats.map((cf) => cf.export_type),
        labelConfigSha256: (await loadLabelConfig(ctx, project)).sha256,
      },
      project: project.id,
      owner: options.owner,
      startedAt: new Date(record.created_at).toISOString(),
      segmentShards,
      force: true,
      items: { bucket: project.export.bucket, key: itemsKey },
      segments: plan.segments.length,
      total: plan.segments.length,
    },
  };
}

/** `ps` writing its formats under `prefix` (`<prefix><FORMAT>/`) instead of `latest/`. */
function atPrefix(ps: ProjectStore, prefix: string): ProjectStore {
  return { ...ps, paths: { ...ps.paths, latest: prefix, latestFormat: (f) => `${prefix}${f}/` } };
}

/**
 * The writer inputs of a snapshot's formats by segments, as renderSnapshot's engine builds them
 * (the requested formats the label config can render and SEGMENT_FORMATS holds, sorted; sinks
 * under `snapshots/<name>/<FORMAT>/` with nothing to compare with).
 */
async function snapshotContext(
  ctx: PipelineContext,
  ps: ProjectStore,
  spec: FanoutSnapshot,
  now: Date,
  report: Report,
  /** Where the sinks make small files' zip records (a worker's, stored for the commit). */
  zipRecords?: ZipRecords,
): Promise<SegmentRenderContext> {
  const schema = await loadSchema(ctx, ps.project, spec.labelConfigSha256);
  const { run } = planFormats(
    schema,
    spec.formats.filter((f): f is FormatName => f !== 'JSON') as FormatName[],
  );
  const formats = run.filter((f) => SEGMENT_FORMATS.has(f)).sort();
  const sinks = new Map<FormatName, PublishSink>();
  for (const f of formats)
    sinks.set(
      f,
      new PublishSink(ps.store, ps.paths.latestFormat(f), new Map(), {
        report,
        format: f,
        ...zipRecording(zipRecords, f),
      }),
    );
  return {
    schema,
    options: parseExportOptions(ps.project.options),
    formats,
    store: ps.store,
    paths: ps.paths,
    media: projectMedia(ctx, ps.project),
    now,
    sinks,
    ...(zipRecords ? { zipRecords } : {}),
  };
}

/**
 * Segment step of a snapshot job: renders `jobs` one after the other through the snapshot's
 * transform — per-task files written under `snapshots/<name>/<FORMAT>/` — and stores each output
 * with its `snapshot.json` body. A re-run overwrites its outputs. Returns counts.
 */
export async function renderSnapshotSegmentJobs(
  ctx: PipelineContext,
  project: ProjectConfig,
  ref: Pick<FanoutRef, 'owner' | 'startedAt'> & { snapshot: FanoutSnapshot },
  jobs: SegmentJob[],
): Promise<{ segments: number; tasks: number; shardsRead: number; bytesRead: number }> {
  const base = projectStore(ctx, project);
  const ps = atPrefix(base, base.paths.snapshot(ref.snapshot.name));
  const transform = snapshotTransform(ref.snapshot.options);
  const out = { segments: 0, tasks: 0, shardsRead: 0, bytesRead: 0 };
  for (const job of jobs) {
    const now = new Date(ref.startedAt);
    // The zip records of the files this job writes (a snapshot zips every format of several files).
    const zipRecords = await ZipRecords.create(now, { maxBytes: WORKER_RECORDED_BYTES });
    try {
      const rc = await snapshotContext(ctx, ps, ref.snapshot, now, new Report(), zipRecords);
      let doc: StoredSegment | StoredBody;
      if (rc.formats.length === 0) {
        // No format by segments: only the segment's snapshot.json body.
        const body = await serializeSegment(ctx, project, job, transform);
        doc = { format: STORED_SEGMENT_FORMAT, owner: ref.owner, job, snapshot: body };
      } else {
        const empty = await emptyRun(rc);
        const aggregatePaths = new Map([...empty.files].map(([f, m]) => [f, new Set(m.keys())]));
        const into = { parts: [] as string[], annotations: 0 };
        const o = await renderSegment(
          { ...rc, transform: captureTransform(transform, into) },
          job,
          aggregatePaths,
        );
        // As a latest/ worker does: the commit then reads each stored body once.
        await summarizeOutput(o, rc.formats, empty);
        const segment: StoredSegment = {
          ...(await storedSegment(ps, ref.owner, job, o, rc)),
          snapshot: snapshotBody(into),
        };
        const stored = await zipRecords.storeRecords(
          ps.store,
          `${fanoutPrefix(ps, ref.owner)}segments/${job.id}.${randomUUID()}.zip-`,
        );
        if (Object.keys(stored).length) segment.zipRecords = stored;
        doc = segment;
        out.tasks += o.entry.counts.tasks;
        out.bytesRead += o.io.bytes;
      }
      await ps.store.put(segmentKey(ps, ref.owner, job.id), JSON.stringify(doc), JSON_TYPE);
      out.segments++;
      out.shardsRead += Object.keys(job.shards).length;
    } finally {
      await zipRecords.dispose();
    }
  }
  return out;
}

/**
 * The stored outputs of job `owner` as renderSnapshot takes them: a job's output is used when it
 * was stored by this job for the same shard ETags and carries a body (and, with formats by
 * segments, an entry); its per-task files are adopted into the commit's sinks as written.
 */
function storedOutputs(ps: ProjectStore, owner: string, counts: { stored: number }): StoredSnapshotSegments {
  return {
    async load(job, rc) {
      const doc = (await readJson<StoredSegment | StoredBody>(ps.store, segmentKey(ps, owner, job.id)))
        ?.value;
      if (
        doc?.format !== STORED_SEGMENT_FORMAT ||
        doc.owner !== owner ||
        !doc.snapshot ||
        !sameShards(doc.job.shards, job.shards)
      )
        return undefined;
      const body: SnapshotBodyText = doc.snapshot;
      if (!rc) {
        counts.stored++;
        return { body };
      }
      if (!('entry' in doc)) return undefined;
      for (const [f, files] of Object.entries(doc.files) as [FormatName, SegmentFile[]][]) {
        const sink = rc.sinks.get(f);
        if (sink) adoptFiles(sink, files, doc.stats[f]);
      }
      await rc.zipRecords?.loadSegment(ps.store, doc.zipRecords, (f) => rc.sinks.has(f));
      const aggregate = storedAggregate(ps.store, doc, fanoutPrefix(ps, owner));
      if (!aggregate) return undefined;
      counts.stored++;
      return {
        body,
        output: {
          entry: doc.entry,
          aggregate,
          io: doc.io,
          ...(doc.summarized ? { summarized: doc.summarized } : {}),
        },
      };
    },
  };
}

/**
 * Commit step of a snapshot job (see the module comment). The engine's failure is thrown (no
 * one-pass fallback in the commit: a snapshot this large would not fit one invocation); the
 * state machine's Catch then runs abortSnapshot.
 */
export async function commitSnapshotFanout(
  ctx: PipelineContext,
  project: ProjectConfig,
  ref: FanoutRef & { snapshot: FanoutSnapshot },
): Promise<RenderedSnapshot & { exportId: number; status: string; stored: number }> {
  const ps = projectStore(ctx, project);
  const spec = ref.snapshot;
  const counts = { stored: 0 };
  const rendered = await renderSnapshot(
    ctx,
    project,
    spec.name,
    spec.options,
    spec.formats,
    new Date(ref.startedAt),
    {
      segmentShards: ref.segmentShards,
      onePassFallback: false,
      stored: storedOutputs(ps, ref.owner, counts),
      labelConfigSha256: spec.labelConfigSha256,
    },
  );
  const record = await completeSnapshotRecord(ctx, project, spec.exportId, rendered);
  await removeFanoutJob(ctx, ps, ref.owner);
  return { ...rendered, exportId: spec.exportId, status: record.status, stored: counts.stored };
}

/**
 * Abort step of a snapshot job (see the module comment). Returns the record's status and the
 * snapshot objects deleted.
 */
export async function abortSnapshot(
  ctx: PipelineContext,
  project: ProjectConfig,
  owner: string,
  exportId: number,
  cause?: string,
): Promise<{ project: string; status: 'aborted'; record: ExportRecord['status'] | 'gone'; deleted: number }> {
  const ps = projectStore(ctx, project);
  await removeFanoutJob(ctx, ps, owner);
  let record: ExportRecord;
  try {
    record = await getRecord(ctx, project, exportId);
  } catch (err) {
    if (!(err instanceof ExportNotFoundError)) throw err;
    // Deleted through the API meanwhile (with its folder): nothing left to mark.
    ctx.log('warn', 'snapshot fan-out aborted: the export is gone', {
      project: project.id,
      owner,
      exportId,
      cause,
    });
    return { project: project.id, status: 'aborted', record: 'gone', deleted: 0 };
  }
  const formats = record.converted_formats.map((cf) => cf.export_type);
  const done = await completedSnapshot(ctx, project, record.snapshot.name, formats);
  if (done) {
    const r = await completeSnapshotRecord(ctx, project, exportId, done);
    return { project: project.id, status: 'aborted', record: r.status, deleted: 0 };
  }
  const prefix = ps.paths.snapshot(record.snapshot.name);
  const stale: string[] = [];
  for await (const o of ps.store.list(prefix)) if (o.key !== `${prefix}export.json`) stale.push(o.key);
  for (const key of stale) await ps.store.delete(key);
  const r = await failSnapshotRecord(
    ctx,
    project,
    exportId,
    `snapshot fan-out ${owner} failed: ${cause ?? 'unknown'}`,
  );
  ctx.log('warn', 'snapshot fan-out aborted', { project: project.id, owner, exportId, cause });
  return { project: project.id, status: 'aborted', record: r.status, deleted: stale.length };
}
