/**
 * Export (snapshot) records and the operations behind the HTTP API, shaped like Label Studio's
 * export API (docs/ls-storage-export-api.md §3). A record lives at `_exports/<id>.json`; work is
 * queued by writing `_exports/requests/<name>.json`, whose S3 event reaches the snapshot function.
 */

import { z } from 'zod';
import { FORMATS, type FormatName, isFormatName, supportedFormats } from '../core/config/formats.ts';
import { WRITERS } from '../core/formats/registry.ts';
import { reasonOf } from '../core/report.ts';
import { PreconditionFailedError } from '../storage/types.ts';
import { casUpdate } from './conditional-write.ts';
import { type ProjectConfig, type SnapshotOptions, snapshotOptionsSchema } from './config.ts';
import type { PipelineContext } from './context.ts';
import { ExportNotFoundError, InvalidRequestError, NotReadyError, UnknownProjectError } from './errors.ts';
import { loadSchema } from './export-run.ts';
import { readJson } from './object-text.ts';
import { findProject } from './paths.ts';
import {
  type ConvertedFiles,
  convertSnapshot,
  defaultSnapshotName,
  readSnapshotManifest,
  snapshotNameFromTitle,
  writeSnapshotFile,
  writeSnapshotManifest,
} from './snapshot.ts';
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

/** The Label Studio fields of a record (what the list returns). */
export function publicRecord(r: ExportRecord, withOptions = true) {
  const converted = r.converted_formats.map(({ id, status, export_type, traceback }) => ({
    id,
    status,
    export_type,
    traceback,
  }));
  const base = {
    id: r.id,
    title: r.title,
    created_by: r.created_by,
    created_at: r.created_at,
    finished_at: r.finished_at,
    status: r.status,
    md5: r.md5,
    counters: r.counters,
    converted_formats: converted,
    snapshot: { name: r.snapshot.name, prefix: r.snapshot.prefix },
  };
  if (!withOptions) return base;
  return {
    ...base,
    task_filter_options: r.task_filter_options ?? null,
    annotation_filter_options: r.annotation_filter_options ?? null,
    serialization_options: r.serialization_options ?? null,
    anonymize: r.anonymize,
  };
}

export function requireProject(ctx: PipelineContext, ref: string): ProjectConfig {
  const p = findProject(ctx.config, ref);
  if (!p) throw new UnknownProjectError(`project "${ref}"`);
  return p;
}

// ---- records ------------------------------------------------------------------------------------

async function nextExportId(ctx: PipelineContext, project: ProjectConfig): Promise<number> {
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
    { attempts: ctx.config.settings.casAttempts * 3, contentType: 'application/json' },
  );
  return id;
}

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
    { attempts: ctx.config.settings.casAttempts * 3, contentType: 'application/json' },
  );
  return out!;
}

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

// ---- create ---------------------------------------------------------------------------------------

export const createExportBodySchema = z.object({
  title: z.string().max(2048).nullish(),
  task_filter_options: snapshotOptionsSchema.def.innerType.shape.task_filter_options,
  annotation_filter_options: snapshotOptionsSchema.def.innerType.shape.annotation_filter_options,
  serialization_options: snapshotOptionsSchema.def.innerType.shape.serialization_options,
  anonymize: z.boolean().optional(),
});
export type CreateExportBody = z.input<typeof createExportBodySchema>;

export interface CreateExportInput {
  title?: string | null;
  options: SnapshotOptions;
  trigger: 'api' | 'nightly';
  /** Formats converted right after the snapshot (nightly: the configured snapshot formats). */
  formats?: FormatName[];
}

/** Creates the record (status `created`) and reserves its snapshot folder. */
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
  if (!name)
    throw new InvalidRequestError(`snapshot name ${wanted} is taken`, {
      title: [`snapshot ${wanted} already exists`],
    });
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

/** API: create a snapshot. Writes the record and the request the snapshot function picks up. */
export async function requestExport(
  ctx: PipelineContext,
  projectRef: string,
  body: unknown,
): Promise<ExportRecord> {
  const project = requireProject(ctx, projectRef);
  const parsed = createExportBodySchema.safeParse(body ?? {});
  if (!parsed.success) throw invalid(parsed.error);
  const options = snapshotOptionsSchema.parse({
    task_filter_options: parsed.data.task_filter_options,
    annotation_filter_options: parsed.data.annotation_filter_options,
    serialization_options: parsed.data.serialization_options,
    anonymize: parsed.data.anonymize ?? false,
  });
  const record = await createRecord(ctx, project, { title: parsed.data.title, options, trigger: 'api' });
  const ps = projectStore(ctx, project);
  await ps.store.put(
    ps.paths.request(String(record.id)),
    JSON.stringify({ action: 'create', exportId: record.id }),
    {
      contentType: 'application/json',
    },
  );
  return record;
}

export function invalid(error: z.ZodError): InvalidRequestError {
  const details: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const field = issue.path.length ? issue.path.join('.') : 'non_field_errors';
    (details[field] ??= []).push(issue.message);
  }
  return new InvalidRequestError('Validation error', details);
}

// ---- the snapshot function's work ---------------------------------------------------------------

const requestSchema = z.union([
  z.object({ action: z.literal('create'), exportId: z.number().int().positive() }),
  z.object({ action: z.literal('convert'), exportId: z.number().int().positive(), format: z.string() }),
]);

/** Runs the work a request object asks for; idempotent (a repeated request changes nothing). */
export async function processRequest(
  ctx: PipelineContext,
  project: ProjectConfig,
  name: string,
): Promise<ExportRecord | undefined> {
  const ps = projectStore(ctx, project);
  const key = ps.paths.request(name);
  const doc = await readJson<unknown>(ps.store, key);
  if (!doc) return undefined; // already processed (the request is deleted when done)
  const req = requestSchema.safeParse(doc.value);
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

/** Builds the snapshot of a record, then the conversions it lists. */
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
    const base = await writeSnapshotFile(ctx, project, record.snapshot.name, options);
    const converted: ConvertedFiles[] = [];
    for (const cf of record.converted_formats) {
      converted.push(await convertOne(ctx, project, base, cf.export_type, createdAt));
    }
    await writeSnapshotManifest(ctx, project, base, converted, options, createdAt);
    return await updateRecord(ctx, project, record.id, (r) => ({
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
  } catch (err) {
    await updateRecord(ctx, project, record.id, (r) => ({
      ...r,
      status: 'failed',
      traceback: reasonOf(err),
    })).catch(() => {});
    throw err;
  }
}

async function convertOne(
  ctx: PipelineContext,
  project: ProjectConfig,
  base: { name: string; prefix: string; file: string },
  format: string,
  createdAt: Date,
): Promise<ConvertedFiles> {
  if (!isFormatName(format))
    return { format: format as FormatName, status: 'skipped', reason: 'unknown format' };
  try {
    return await convertSnapshot(ctx, project, base, format, createdAt);
  } catch (err) {
    return { format, status: 'skipped', reason: `conversion failed: ${reasonOf(err)}` };
  }
}

function toConverted(cf: ConvertedFormat, c: ConvertedFiles): ConvertedFormat {
  if (c.status === 'completed') return { ...cf, status: 'completed', traceback: null, download: c.download };
  return { ...cf, status: 'failed', traceback: c.reason ?? 'failed' };
}

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
  const converted = await convertOne(ctx, project, base, format, new Date(record.created_at));
  const updated = await updateRecord(ctx, project, record.id, (r) => ({
    ...r,
    converted_formats: r.converted_formats.map((c) =>
      c.export_type === format ? toConverted(c, converted) : c,
    ),
  }));
  // Keep the manifest's format list in step with the record.
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
      {
        contentType: 'application/json',
      },
    );
  }
  return updated;
}

/** Nightly: one snapshot per project (skipped when today's name already exists). */
export async function nightlySnapshots(
  ctx: PipelineContext,
  projectIds?: string[],
): Promise<Array<{ project: string; exportId?: number; status: string }>> {
  const out: Array<{ project: string; exportId?: number; status: string }> = [];
  for (const project of ctx.config.projects) {
    if (projectIds ? !projectIds.includes(project.id) : !project.snapshot.nightly) continue;
    const name = defaultSnapshotName(project.id, ctx.now());
    const ps = projectStore(ctx, project);
    // One nightly snapshot per name (a retried schedule invocation finds the claim and stops).
    try {
      await ps.store.put(
        `${ps.paths.exports}nightly/${name}.json`,
        JSON.stringify({ at: ctx.now().toISOString() }),
        {
          ifNoneMatch: '*',
          contentType: 'application/json',
        },
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

// ---- API operations -----------------------------------------------------------------------------

export async function deleteExport(ctx: PipelineContext, projectRef: string, id: number): Promise<void> {
  const project = requireProject(ctx, projectRef);
  const record = await getRecord(ctx, project, id);
  const ps = projectStore(ctx, project);
  const keys: string[] = [];
  for await (const o of ps.store.list(record.snapshot.prefix)) keys.push(o.key);
  for (const k of keys) await ps.store.delete(k);
  await ps.store.delete(ps.paths.request(String(id))).catch(() => {});
  await ps.store.delete(ps.paths.exportRecord(id));
}

export const convertBodySchema = z.object({
  export_type: z.string({ error: 'This field is required.' }).min(1),
  download_resources: z.boolean().optional(),
});

export async function requestConversion(
  ctx: PipelineContext,
  projectRef: string,
  id: number,
  body: unknown,
): Promise<{ export_type: string; converted_format: number }> {
  const project = requireProject(ctx, projectRef);
  const parsed = convertBodySchema.safeParse(body ?? {});
  if (!parsed.success) throw invalid(parsed.error);
  const format = parsed.data.export_type;
  await assertConvertible(ctx, project, format);
  const record = await getRecord(ctx, project, id);
  if (record.status !== 'completed')
    throw new InvalidRequestError('Export is not completed', {
      non_field_errors: ['Export is not completed'],
    });
  let cfId = 0;
  await updateRecord(ctx, project, id, (r) => {
    const existing = r.converted_formats.find((c) => c.export_type === format);
    if (existing && existing.status !== 'failed') {
      throw new InvalidRequestError(`Conversion to ${format} already started`, {
        non_field_errors: [`Conversion to ${format} already started`],
      });
    }
    cfId = existing?.id ?? r.id * 1000 + r.converted_formats.length + 1;
    const entry: ConvertedFormat = { id: cfId, status: 'created', export_type: format, traceback: null };
    return {
      ...r,
      converted_formats: existing
        ? r.converted_formats.map((c) => (c === existing ? entry : c))
        : [...r.converted_formats, entry],
    };
  });
  const ps = projectStore(ctx, project);
  await ps.store.put(
    ps.paths.request(`${id}-convert-${format}`),
    JSON.stringify({ action: 'convert', exportId: id, format }),
    {
      contentType: 'application/json',
    },
  );
  return { export_type: format, converted_format: cfId };
}

async function assertConvertible(
  ctx: PipelineContext,
  project: ProjectConfig,
  format: string,
): Promise<FormatName> {
  if (!isFormatName(format)) {
    throw new InvalidRequestError(`unknown export type "${format}"`, {
      export_type: [`"${format}" is not a valid choice.`],
    });
  }
  const schema = await loadSchema(ctx, project);
  if (!WRITERS[format] || !supportedFormats(schema).includes(format)) {
    throw new InvalidRequestError(`${format} is not available for this project`, {
      export_type: [`${format} is not available for this project's label config`],
    });
  }
  return format;
}

/** What a download returns: the object to presign. */
export async function downloadTarget(
  ctx: PipelineContext,
  projectRef: string,
  id: number,
  exportType: string | undefined,
): Promise<{ bucket: string; key: string; filename: string }> {
  const project = requireProject(ctx, projectRef);
  if (exportType !== undefined && !isFormatName(exportType)) {
    throw new InvalidRequestError(`unknown export type "${exportType}"`, {
      exportType: [`"${exportType}" is not a valid choice.`],
    });
  }
  const record = await getRecord(ctx, project, id);
  if (record.status !== 'completed') throw new NotReadyError('Export is not completed');
  const bucket = project.export.bucket;
  if (!exportType || exportType === 'JSON') {
    return { bucket, key: record.snapshot.file, filename: `${record.snapshot.name}.json` };
  }
  const cf = record.converted_formats.find((c) => c.export_type === exportType);
  if (cf?.status !== 'completed' || !cf.download) {
    throw new NotReadyError(`${exportType} format is not converted yet`);
  }
  return { bucket, ...cf.download };
}

/** `GET /export/formats`: every format with whether this project can produce it (enabled first). */
export async function exportFormats(ctx: PipelineContext, projectRef: string) {
  const project = requireProject(ctx, projectRef);
  const schema = await loadSchema(ctx, project);
  const supported = new Set(supportedFormats(schema));
  const list = FORMATS.filter((f) => f.convertible).map((f) => {
    const disabled = !supported.has(f.name) || !WRITERS[f.name];
    return {
      name: f.name,
      title: f.title,
      description: f.description,
      tags: [...f.tags],
      ...(disabled ? { disabled: true } : {}),
    };
  });
  return [...list.filter((f) => !f.disabled), ...list.filter((f) => f.disabled)];
}
