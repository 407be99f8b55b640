/**
 * What each route of the export API does, shaped like Label Studio's (
 * docs/label-studio-storage-and-api.md#export-api), independent of API Gateway: inputs are a project reference, an export id and a parsed body;
 * outputs are Label Studio's response bodies. Failures are api-errors.ts classes carrying their
 * HTTP status (domain errors such as ExportNotFoundError are translated here).
 */
import { z } from 'zod';
import { FORMATS, type FormatName, isFormatName, supportedFormats } from '../core/config/formats.ts';
import { WRITERS } from '../core/formats/registry.ts';
import { BadRequest, Conflict, NotFound } from './api-errors.ts';
import { type ProjectConfig, snapshotOptionsSchema } from './config.ts';
import type { PipelineContext } from './context.ts';
import { ConflictError, ExportNotFoundError, SnapshotNameTakenError, UnknownProjectError } from './errors.ts';
import { loadSchema } from './export-run.ts';
import {
  type ConvertedFormat,
  createRecord,
  deleteRecord,
  type ExportRecord,
  getRecord,
  listRecords,
  queueRequest,
  updateRecord,
} from './exports-records.ts';
import { findProject } from './paths.ts';

/** The Label Studio fields of a record (`withOptions: false` is what the list returns). */
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
export type PublicRecord = ReturnType<typeof publicRecord>;

/** Runs `fn`, turning the pipeline's expected errors into HTTP ones. */
async function http<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ExportNotFoundError || err instanceof UnknownProjectError) throw new NotFound();
    if (err instanceof SnapshotNameTakenError)
      throw new Conflict(`Snapshot ${err.snapshotName} already exists; choose another title.`);
    if (err instanceof ConflictError) throw new Conflict('The export changed concurrently; try again.');
    throw err;
  }
}

/** The project a route names (our id or Label Studio's numeric id); NotFound otherwise. */
export function projectOr404(ctx: PipelineContext, ref: string): ProjectConfig {
  const p = findProject(ctx.config, ref);
  if (!p) throw new NotFound();
  return p;
}

/** An export id from a path segment (a positive integer, as Django's `<int:pk>`); NotFound otherwise. */
export function parseExportPk(raw: string): number {
  if (!/^[1-9]\d{0,15}$/.test(raw)) throw new NotFound();
  return Number(raw);
}

/** `GET /export/formats`: every format with whether this project can produce it (enabled first). */
export async function exportFormats(ctx: PipelineContext, projectRef: string) {
  const project = projectOr404(ctx, projectRef);
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

/** `GET /exports/`: the newest 100 snapshots, newest first, without their options. */
export async function listExports(ctx: PipelineContext, projectRef: string) {
  const project = projectOr404(ctx, projectRef);
  return (await listRecords(ctx, project)).map((r) => publicRecord(r, false));
}

/** `GET /exports/{pk}`: one snapshot. NotFound when absent. */
export async function getExport(ctx: PipelineContext, projectRef: string, id: number): Promise<PublicRecord> {
  const project = projectOr404(ctx, projectRef);
  return publicRecord(await http(() => getRecord(ctx, project, id)));
}

export const createExportBodySchema = z.object({
  title: z.string().max(2048).nullish(),
  task_filter_options: snapshotOptionsSchema.def.innerType.shape.task_filter_options,
  annotation_filter_options: snapshotOptionsSchema.def.innerType.shape.annotation_filter_options,
  serialization_options: snapshotOptionsSchema.def.innerType.shape.serialization_options,
  anonymize: z.boolean().optional(),
});
export type CreateExportBody = z.input<typeof createExportBodySchema>;

/**
 * `POST /exports/`: creates the record (status `created`) and queues the request the snapshot
 * worker picks up. BadRequest for an invalid body; Conflict when the title's snapshot name is taken.
 */
export async function createExport(
  ctx: PipelineContext,
  projectRef: string,
  body: unknown,
): Promise<PublicRecord> {
  const project = projectOr404(ctx, projectRef);
  const parsed = createExportBodySchema.safeParse(body ?? {});
  if (!parsed.success) throw BadRequest.fromZod(parsed.error);
  const options = snapshotOptionsSchema.parse({
    task_filter_options: parsed.data.task_filter_options,
    annotation_filter_options: parsed.data.annotation_filter_options,
    serialization_options: parsed.data.serialization_options,
    anonymize: parsed.data.anonymize ?? false,
  });
  return http(async () => {
    const record = await createRecord(ctx, project, { title: parsed.data.title, options, trigger: 'api' });
    await queueRequest(ctx, project, { action: 'create', exportId: record.id });
    return publicRecord(record);
  });
}

/** `DELETE /exports/{pk}`: removes the record and its snapshot files. NotFound when absent. */
export async function deleteExport(ctx: PipelineContext, projectRef: string, id: number): Promise<void> {
  const project = projectOr404(ctx, projectRef);
  await http(() => deleteRecord(ctx, project, id));
}

export const convertBodySchema = z.object({
  export_type: z.string({ error: 'This field is required.' }).min(1),
  download_resources: z.boolean().optional(),
});

/**
 * `POST /exports/{pk}/convert`: queues a conversion of a completed snapshot. BadRequest for a bad
 * body, an unknown or unavailable format, a snapshot not completed, or a conversion already
 * started (Label Studio's `non_field_errors`); NotFound when the export is absent.
 */
export async function convertExport(
  ctx: PipelineContext,
  projectRef: string,
  id: number,
  body: unknown,
): Promise<{ export_type: string; converted_format: number }> {
  const project = projectOr404(ctx, projectRef);
  const parsed = convertBodySchema.safeParse(body ?? {});
  if (!parsed.success) throw BadRequest.fromZod(parsed.error);
  const format = await convertibleFormat(ctx, project, parsed.data.export_type);
  return http(async () => {
    const record = await getRecord(ctx, project, id);
    if (record.status !== 'completed') throw nonFieldError('Export is not completed');
    let cfId = 0;
    await updateRecord(ctx, project, id, (r) => {
      const existing = r.converted_formats.find((c) => c.export_type === format);
      if (existing && existing.status !== 'failed')
        throw nonFieldError(`Conversion to ${format} already started`);
      cfId = existing?.id ?? r.id * 1000 + r.converted_formats.length + 1;
      const entry: ConvertedFormat = { id: cfId, status: 'created', export_type: format, traceback: null };
      return {
        ...r,
        converted_formats: existing
          ? r.converted_formats.map((c) => (c === existing ? entry : c))
          : [...r.converted_formats, entry],
      };
    });
    await queueRequest(ctx, project, { action: 'convert', exportId: id, format });
    return { export_type: format, converted_format: cfId };
  });
}

const nonFieldError = (message: string) => new BadRequest(message, { non_field_errors: [message] });

async function convertibleFormat(
  ctx: PipelineContext,
  project: ProjectConfig,
  format: string,
): Promise<FormatName> {
  if (!isFormatName(format)) {
    throw new BadRequest(`unknown export type "${format}"`, {
      export_type: [`"${format}" is not a valid choice.`],
    });
  }
  const schema = await loadSchema(ctx, project);
  if (!WRITERS[format] || !supportedFormats(schema).includes(format)) {
    throw new BadRequest(`${format} is not available for this project`, {
      export_type: [`${format} is not available for this project's label config`],
    });
  }
  return format;
}

/**
 * `GET /exports/{pk}/download?exportType=`: the object a download returns (the caller presigns
 * it). No type or `JSON`: the snapshot file. NotFound (Label Studio's messages) before the
 * snapshot or the format's conversion completes; BadRequest for an unknown type.
 */
export async function downloadTarget(
  ctx: PipelineContext,
  projectRef: string,
  id: number,
  exportType: string | undefined,
): Promise<{ bucket: string; key: string; filename: string }> {
  const project = projectOr404(ctx, projectRef);
  if (exportType !== undefined && !isFormatName(exportType)) {
    throw new BadRequest(`unknown export type "${exportType}"`, {
      exportType: [`"${exportType}" is not a valid choice.`],
    });
  }
  const record = await http(() => getRecord(ctx, project, id));
  if (record.status !== 'completed') throw new NotFound('Export is not completed');
  const bucket = project.export.bucket;
  if (!exportType || exportType === 'JSON') {
    return { bucket, key: record.snapshot.file, filename: `${record.snapshot.name}.json` };
  }
  const cf = record.converted_formats.find((c) => c.export_type === exportType);
  if (cf?.status !== 'completed' || !cf.download) {
    throw new NotFound(`${exportType} format is not converted yet`);
  }
  return { bucket, ...cf.download };
}

/**
 * `GET /api/version`: Label Studio's version body, naming this service. `edition` is `Community`
 * on purpose: the SDK's `projects.exports.as_file`/`as_json`/`as_pandas` read it and then take the
 * one-call synchronous export (served at once from `latest/`); with `Enterprise` they create a
 * snapshot, poll only its status and download a conversion that may not be finished yet.
 */
export function versionInfo(release: string) {
  return {
    release,
    edition: 'Community' as const,
    backend: { name: 'ls-export', release },
    lsf: {},
    'label-studio-os-package': { version: release },
    'label-studio-os-backend': {},
    'label-studio-frontend': {},
    'label-studio-converter': { name: 'ls-export', version: release },
  };
}
