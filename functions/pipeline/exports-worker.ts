/**
 * The snapshot worker: runs the export requests the API queued (build a snapshot, convert one to
 * a format) and the nightly snapshots, updating the export records as it goes (exports-records.ts).
 */
import { PreconditionFailedError } from '../core/object-store.ts';
import { reasonOf } from '../core/report.ts';
import { type ProjectConfig, type SnapshotOptions, snapshotOptionsSchema } from './config.ts';
import type { PipelineContext } from './context.ts';
import { ExportNotFoundError } from './errors.ts';
import {
  type ConvertedFormat,
  createRecord,
  type ExportRecord,
  exportRequestSchema,
  getRecord,
  updateRecord,
} from './exports-records.ts';
import { countPerProject, METRIC } from './metrics.ts';
import { readJson } from './object-text.ts';
import { estimateSnapshot, snapshotExecutionName } from './render-route.ts';
import { renderSnapshot } from './segments-snapshot.ts';
import {
  type ConvertedFiles,
  convertRequested,
  defaultSnapshotName,
  type RenderedSnapshot,
  readSnapshotManifest,
} from './snapshot.ts';
import { projectStore } from './state.ts';

/**
 * Runs the work request object `name` asks for, then deletes it. Idempotent: a repeated request
 * (already deleted, or its export completed or deleted) changes nothing and returns the record or
 * undefined. A malformed request is logged and deleted. Other failures propagate (SQS retries).
 */
export async function processRequest(
  ctx: PipelineContext,
  project: ProjectConfig,
  name: string,
): Promise<ExportRecord | undefined> {
  const ps = projectStore(ctx, project);
  const key = ps.paths.request(name);
  const doc = await readJson<unknown>(ps.store, key);
  if (!doc) return undefined; // already processed (the request is deleted when done)
  const req = exportRequestSchema.safeParse(doc.value);
  if (!req.success) {
    ctx.log('warn', 'ignoring a malformed export request', { project: project.id, key });
    await ps.store.delete(key);
    return undefined;
  }
  let record: ExportRecord;
  try {
    record = await getRecord(ctx, project, req.data.exportId);
  } catch (err) {
    if (err instanceof ExportNotFoundError) {
      await ps.store.delete(key); // the export was deleted meanwhile
      return undefined;
    }
    throw err;
  }
  const out =
    req.data.action === 'create'
      ? await runSnapshot(ctx, project, record)
      : await runConversion(ctx, project, record, req.data.format);
  await ps.store.delete(key);
  return out;
}

/** The snapshot options a record was created with. */
export function recordSnapshotOptions(record: ExportRecord): SnapshotOptions {
  return snapshotOptionsSchema.parse({
    task_filter_options: record.task_filter_options,
    annotation_filter_options: record.annotation_filter_options,
    serialization_options: record.serialization_options,
    anonymize: record.anonymize,
  });
}

/**
 * Builds the snapshot of a record, then the conversions it lists (a failed conversion marks its
 * format `failed`, not the snapshot). A failed snapshot marks the record `failed` and rethrows.
 * A snapshot of at least `ctx.renderFanout.minSegments` segments (render-route.ts
 * estimateSnapshot: one LIST of the state shards) is not rendered here: the project's render state
 * machine is started with a `snapshot` job (snapshot-fanout.ts), whose commit completes the record
 * (or whose abort fails it); the record is returned `in_progress`.
 */
export async function runSnapshot(
  ctx: PipelineContext,
  project: ProjectConfig,
  record: ExportRecord,
): Promise<ExportRecord> {
  if (record.status === 'completed') return record;
  const started = await updateRecord(ctx, project, record.id, (r) => ({ ...r, status: 'in_progress' }));
  const options = recordSnapshotOptions(record);
  const createdAt = new Date(record.created_at);
  try {
    if (await routeSnapshot(ctx, project, record)) return started;
    // By the segment engine; a snapshot completed by an earlier attempt is returned as it is.
    const rendered = await renderSnapshot(
      ctx,
      project,
      record.snapshot.name,
      options,
      record.converted_formats.map((cf) => cf.export_type),
      createdAt,
    );
    return await completeSnapshotRecord(ctx, project, record.id, rendered);
  } catch (err) {
    await failSnapshotRecord(ctx, project, record.id, reasonOf(err)).catch(() => {});
    throw err;
  }
}

/** Marks record `id` completed with what the snapshot holds (md5, task count, each format's download). */
export async function completeSnapshotRecord(
  ctx: PipelineContext,
  project: ProjectConfig,
  id: number,
  { base, converted }: Pick<RenderedSnapshot, 'base' | 'converted'>,
): Promise<ExportRecord> {
  const completed = await updateRecord(ctx, project, id, (r) => ({
    ...r,
    status: 'completed',
    finished_at: ctx.now().toISOString(),
    md5: base.md5,
    counters: { task_number: base.counts.tasks },
    converted_formats: r.converted_formats.map((cf) => {
      const c = converted.find((x) => x.format === cf.export_type);
      return c ? toConverted(cf, c) : cf;
    }),
    traceback: null,
  }));
  countPerProject(ctx.metrics, METRIC.SnapshotsCreated, 1, project.id);
  return completed;
}

/** Marks record `id` failed with `traceback`. */
export function failSnapshotRecord(
  ctx: PipelineContext,
  project: ProjectConfig,
  id: number,
  traceback: string,
): Promise<ExportRecord> {
  return updateRecord(ctx, project, id, (r) => ({ ...r, status: 'failed', traceback }));
}

/**
 * Starts the snapshot's fan-out when the deployment has one and the snapshot has at least its
 * `minSegments` segments; returns whether it did. The execution is named after the export id and
 * the snapshot name (snapshotExecutionName), so a retried request starts it once.
 */
async function routeSnapshot(
  ctx: PipelineContext,
  project: ProjectConfig,
  record: ExportRecord,
): Promise<boolean> {
  const fanout = ctx.renderFanout;
  if (!fanout) return false;
  const est = await estimateSnapshot(ctx, project);
  if (est.segments < fanout.minSegments) return false;
  const name = snapshotExecutionName(record.id, record.snapshot.name);
  const started = await fanout.start(project, name, {
    kind: 'snapshot',
    projectId: project.id,
    exportId: record.id,
    snapshot: record.snapshot.name,
    segments: { total: est.segments },
  });
  ctx.log('info', 'snapshot fanned out', {
    project: project.id,
    exportId: record.id,
    snapshot: record.snapshot.name,
    segments: est.segments,
    execution: started.executionArn,
    existed: started.existed,
  });
  return true;
}

function toConverted(cf: ConvertedFormat, c: ConvertedFiles): ConvertedFormat {
  if (c.status === 'completed') return { ...cf, status: 'completed', traceback: null, download: c.download };
  return { ...cf, status: 'failed', traceback: c.reason ?? 'failed' };
}

/** Converts a completed snapshot to one format and keeps the snapshot's manifest in step. */
async function runConversion(
  ctx: PipelineContext,
  project: ProjectConfig,
  record: ExportRecord,
  format: string,
): Promise<ExportRecord> {
  const cf = record.converted_formats.find((c) => c.export_type === format);
  if (!cf || cf.status === 'completed') return record;
  await updateRecord(ctx, project, record.id, (r) => ({
    ...r,
    converted_formats: r.converted_formats.map((c) =>
      c.export_type === format ? { ...c, status: 'in_progress' } : c,
    ),
  }));
  const base = { name: record.snapshot.name, prefix: record.snapshot.prefix, file: record.snapshot.file };
  const converted = await convertRequested(ctx, project, base, format, new Date(record.created_at));
  const updated = await updateRecord(ctx, project, record.id, (r) => ({
    ...r,
    converted_formats: r.converted_formats.map((c) =>
      c.export_type === format ? toConverted(c, converted) : c,
    ),
  }));
  const manifest = await readSnapshotManifest(ctx, project, record.snapshot.name);
  if (manifest && converted.status === 'completed') {
    const ps = projectStore(ctx, project);
    const formats = [
      ...manifest.formats.filter((f) => f.format !== format),
      { format: converted.format, status: converted.status, files: converted.files },
    ];
    await ps.store.put(
      `${record.snapshot.prefix}manifest.json`,
      `${JSON.stringify({ ...manifest, formats }, null, 2)}\n`,
      { contentType: 'application/json' },
    );
  }
  return updated;
}

export interface NightlyResult {
  project: string;
  exportId?: number;
  /** The record's final status, or `exists` when this minute's nightly snapshot was already claimed. */
  status: string;
}

/**
 * Nightly: one snapshot per project with `snapshot.nightly` (or per listed project), JSON plus the
 * configured snapshot formats. A claim object per snapshot name makes a retried schedule
 * invocation stop (`exists`) instead of snapshotting twice.
 */
export async function nightlySnapshots(
  ctx: PipelineContext,
  projectIds?: string[],
): Promise<NightlyResult[]> {
  const out: NightlyResult[] = [];
  for (const project of ctx.config.projects) {
    if (projectIds ? !projectIds.includes(project.id) : !project.snapshot.nightly) continue;
    const name = defaultSnapshotName(project.id, ctx.now());
    const ps = projectStore(ctx, project);
    try {
      await ps.store.put(
        `${ps.paths.exports}nightly/${name}.json`,
        JSON.stringify({ at: ctx.now().toISOString() }),
        { ifNoneMatch: '*', contentType: 'application/json' },
      );
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
      out.push({ project: project.id, status: 'exists' });
      continue;
    }
    const formats = (project.snapshot.formats ?? project.formats).filter((f) => f !== 'JSON');
    const record = await createRecord(ctx, project, {
      options: project.snapshot.options,
      trigger: 'nightly',
      formats: ['JSON', ...formats],
    });
    const done = await runSnapshot(ctx, project, record);
    out.push({ project: project.id, exportId: done.id, status: done.status });
  }
  return out;
}
