/**
 * Export (snapshot) records in the export bucket, shaped like Label Studio's `Export` model
 * (docs/label-studio-storage-and-api.md#export-api): one record per export at `_exports/<id>.json`, ids from the
 * counter `_exports/next-id.json`, and the request objects `_exports/requests/<name>.json` whose S3
 * events reach the snapshot worker (exports-worker.ts). No HTTP here (exports-api.ts).
 */
import { z } from 'zod';
import type { FormatName } from '../core/config/formats.ts';
import { PreconditionFailedError } from '../core/object-store.ts';
import { casUpdate } from './conditional-write.ts';
import type { ProjectConfig, SnapshotOptions } from './config.ts';
import type { PipelineContext } from './context.ts';
import { ExportNotFoundError, SnapshotNameTakenError } from './errors.ts';
import { readJson } from './object-text.ts';
import { defaultSnapshotName, snapshotNameFromTitle } from './snapshot.ts';
import { projectStore } from './state.ts';

export type ExportStatus = 'created' | 'in_progress' | 'completed' | 'failed';

export interface ConvertedFormat {
  id: number;
  status: ExportStatus;
  export_type: string;
  traceback: string | null;
  /** Ours: the key a download of this format returns. */
  download?: { key: string; filename: string };
}

export interface ExportRecord {
  id: number;
  title: string;
  created_by: null;
  created_at: string;
  finished_at: string | null;
  status: ExportStatus;
  md5: string;
  counters: { task_number?: number };
  converted_formats: ConvertedFormat[];
  task_filter_options: SnapshotOptions['task_filter_options'];
  annotation_filter_options: SnapshotOptions['annotation_filter_options'];
  serialization_options: SnapshotOptions['serialization_options'];
  anonymize: boolean;
  /** Ours: where the snapshot lives and how it was started. */
  snapshot: { name: string; prefix: string; file: string; trigger: 'api' | 'nightly' };
  traceback?: string | null;
}

/** How many more CAS attempts record and counter writes get than state writes (API bursts). */
const RECORD_CAS_FACTOR = 3;

const casOptions = (ctx: PipelineContext) => ({
  attempts: ctx.config.settings.casAttempts * RECORD_CAS_FACTOR,
  contentType: 'application/json',
});

/** Takes the next export id of the project (1, 2, …; never reused). Throws ConflictError under contention. */
export async function nextExportId(ctx: PipelineContext, project: ProjectConfig): Promise<number> {
  const ps = projectStore(ctx, project);
  let id = 0;
  await casUpdate(
    ctx,
    ps.store,
    ps.paths.exportCounter,
    (text) => {
      const cur = text ? (JSON.parse(text) as { next: number }).next : 1;
      id = cur;
      return JSON.stringify({ next: cur + 1 });
    },
    casOptions(ctx),
  );
  return id;
}

/** The record of export `id`; throws ExportNotFoundError. */
export async function getRecord(
  ctx: PipelineContext,
  project: ProjectConfig,
  id: number,
): Promise<ExportRecord> {
  const ps = projectStore(ctx, project);
  const r = await readJson<ExportRecord>(ps.store, ps.paths.exportRecord(id));
  if (!r) throw new ExportNotFoundError(id);
  return r.value;
}

/**
 * Compare-and-swap update of a record: `fn` returns the new record, or undefined for no change
 * (it may throw to abort). Returns the record as stored. Throws ExportNotFoundError, ConflictError.
 */
export async function updateRecord(
  ctx: PipelineContext,
  project: ProjectConfig,
  id: number,
  fn: (r: ExportRecord) => ExportRecord | undefined,
): Promise<ExportRecord> {
  const ps = projectStore(ctx, project);
  let out: ExportRecord | undefined;
  await casUpdate(
    ctx,
    ps.store,
    ps.paths.exportRecord(id),
    (text) => {
      if (!text) throw new ExportNotFoundError(id);
      const cur = JSON.parse(text) as ExportRecord;
      const next = fn(cur);
      out = next ?? cur;
      return next ? JSON.stringify(next) : undefined;
    },
    casOptions(ctx),
  );
  return out!;
}

/** The newest `limit` records, newest (highest id) first, as Label Studio lists them. */
export async function listRecords(
  ctx: PipelineContext,
  project: ProjectConfig,
  limit = 100,
): Promise<ExportRecord[]> {
  const ps = projectStore(ctx, project);
  const ids: number[] = [];
  for await (const o of ps.store.list(ps.paths.exports)) {
    const m = /^(\d+)\.json$/.exec(o.key.slice(ps.paths.exports.length));
    if (m) ids.push(Number(m[1]));
  }
  ids.sort((a, b) => b - a);
  const out: ExportRecord[] = [];
  for (const id of ids.slice(0, limit)) {
    const r = await readJson<ExportRecord>(ps.store, ps.paths.exportRecord(id));
    if (r) out.push(r.value);
  }
  return out;
}

/** Reserves a snapshot folder (create-only), falling back to `<name>-<id>` when taken. */
async function reserveName(
  ctx: PipelineContext,
  project: ProjectConfig,
  name: string,
  id: number,
  trigger: string,
): Promise<string | undefined> {
  const ps = projectStore(ctx, project);
  for (const candidate of [name, `${name}-${id}`]) {
    const key = `${ps.paths.snapshot(candidate)}export.json`;
    if (await ps.store.head(key)) continue;
    try {
      await ps.store.put(key, JSON.stringify({ exportId: id, trigger }), {
        ifNoneMatch: '*',
        contentType: 'application/json',
      });
      return candidate;
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
    }
  }
  return undefined;
}

export interface CreateExportInput {
  title?: string | null;
  options: SnapshotOptions;
  trigger: 'api' | 'nightly';
  /** Formats converted right after the snapshot (nightly: the configured snapshot formats). */
  formats?: FormatName[];
}

/**
 * Creates a record (status `created`) with a new id and reserves its snapshot folder (named from
 * the title, or `<project>-at-<date>`). Throws SnapshotNameTakenError when the name and
 * `<name>-<id>` both exist.
 */
export async function createRecord(
  ctx: PipelineContext,
  project: ProjectConfig,
  input: CreateExportInput,
): Promise<ExportRecord> {
  const now = ctx.now();
  const id = await nextExportId(ctx, project);
  const defaultName = defaultSnapshotName(project.id, now);
  const wanted = input.title ? snapshotNameFromTitle(input.title) : defaultName;
  const name = await reserveName(ctx, project, wanted, id, input.trigger);
  if (!name) throw new SnapshotNameTakenError(wanted);
  const ps = projectStore(ctx, project);
  const prefix = ps.paths.snapshot(name);
  const record: ExportRecord = {
    id,
    title: input.title || defaultName,
    created_by: null,
    created_at: now.toISOString(),
    finished_at: null,
    status: 'created',
    md5: '',
    counters: {},
    converted_formats: (input.formats ?? []).map((f, i) => ({
      id: id * 1000 + i + 1,
      status: 'created',
      export_type: f,
      traceback: null,
    })),
    task_filter_options: input.options.task_filter_options,
    annotation_filter_options: input.options.annotation_filter_options,
    serialization_options: input.options.serialization_options,
    anonymize: input.options.anonymize,
    snapshot: { name, prefix, file: `${prefix}snapshot.json`, trigger: input.trigger },
    traceback: null,
  };
  await ps.store.put(ps.paths.exportRecord(id), JSON.stringify(record), {
    ifNoneMatch: '*',
    contentType: 'application/json',
  });
  return record;
}

/** Deletes a record with its snapshot folder and any pending request. Throws ExportNotFoundError. */
export async function deleteRecord(ctx: PipelineContext, project: ProjectConfig, id: number): Promise<void> {
  const record = await getRecord(ctx, project, id);
  const ps = projectStore(ctx, project);
  const keys: string[] = [];
  for await (const o of ps.store.list(record.snapshot.prefix)) keys.push(o.key);
  for (const k of keys) await ps.store.delete(k);
  await ps.store.delete(ps.paths.request(String(id))).catch(() => {});
  await ps.store.delete(ps.paths.exportRecord(id));
}

// ---- requests: work queued for the snapshot worker -------------------------------------------------

export const exportRequestSchema = z.union([
  z.object({ action: z.literal('create'), exportId: z.number().int().positive() }),
  z.object({ action: z.literal('convert'), exportId: z.number().int().positive(), format: z.string() }),
]);
export type ExportRequest = z.infer<typeof exportRequestSchema>;

/** The request object's name: `<id>` (create) or `<id>-convert-<format>`. */
export const requestName = (req: ExportRequest): string =>
  req.action === 'create' ? String(req.exportId) : `${req.exportId}-convert-${req.format}`;

/** Writes a request object; its S3 event reaches the snapshot worker. Returns the request's name. */
export async function queueRequest(
  ctx: PipelineContext,
  project: ProjectConfig,
  req: ExportRequest,
): Promise<string> {
  const ps = projectStore(ctx, project);
  const name = requestName(req);
  await ps.store.put(ps.paths.request(name), JSON.stringify(req), { contentType: 'application/json' });
  return name;
}
