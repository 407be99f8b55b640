/**
 * The snapshot worker: runs the export requests the API queued (build a snapshot, convert one to
 * a format) and the nightly snapshots, updating the export records as it goes (exports-records.ts).
 */
import { PreconditionFailedError } from '../core/object-store.ts';
import { reasonOf } from '../core/report.ts';
import { type ProjectConfig, snapshotOptionsSchema } from './config.ts';
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
import { renderSnapshot } from './segments-snapshot.ts';
import {
  type ConvertedFiles,
  convertRequested,
  defaultSnapshotName,
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

/**
 * Builds the snapshot of a record, then the conversions it lists (a failed conversion marks its
 * format `failed`, not the snapshot). A failed snapshot marks the record `failed` and rethrows.
 */
export async function runSnapshot(
  ctx: PipelineContext,
  project: ProjectConfig,
  record: ExportRecord,
): Promise<ExportRecord> {
  if (record.status === 'completed') return record;
  await updateRecord(ctx, project, record.id, (r) => ({ ...r, status: 'in_progress' }));
  const options = snapshotOptionsSchema.parse({
    task_filter_options: record.task_filter_options,
    annotation_filter_options: record.annotation_filter_options,
    serialization_options: record.serialization_options,
    anonymize: record.anonymize,
  });
  const createdAt = new Date(record.created_at);
  try {
    // By the segment engine; a snapshot completed by an earlier attempt is returned as it is.
    const { base, converted } = await renderSnapshot(
      ctx,
      project,
      record.snapshot.name,
      options,
      record.converted_formats.map((cf) => cf.export_type),
      createdAt,
    );
    const completed = await updateRecord(ctx, project, record.id, (r) => ({
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
  } catch (err) {
    await updateRecord(ctx, project, record.id, (r) => ({
      ...r,
      status: 'failed',
      traceback: reasonOf(err),
    })).catch(() => {});
    throw err;
  }
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
