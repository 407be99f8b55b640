/**
 * Runs the conversion engine over a project's state into an object-store prefix: one pass (two for
 * CSV) over the shards feeds every requested format; each file streams into its own upload
 * (multipart on S3). Shared by the "latest" render and by snapshots.
 */
import { type FormatName, supportedFormats } from '../core/config/formats.ts';
import type { LabelSchema } from '../core/config/schema.ts';
import { runExport } from '../core/export.ts';
import { type ExportOptions, parseExportOptions } from '../core/formats/options.ts';
import { WRITERS } from '../core/formats/registry.ts';
import type { OutputSink } from '../core/formats/types.ts';
import type { JsonObject } from '../core/json/value.ts';
import type { MediaAccess } from '../core/media.ts';
import type { ObjectStore } from '../core/object-store.ts';
import { Report, type ReportJson } from '../core/report.ts';
import { StoreSink } from '../core/store-sink.ts';
import type { ProjectConfig } from './config.ts';
import type { PipelineContext } from './context.ts';
import { HashingSink, type WrittenFile } from './hashing-sink.ts';
import { loadLabelConfig } from './label-config.ts';
import { projectPaths } from './paths.ts';
import { StateTaskSource } from './state-source.ts';

export interface FormatResult {
  format: FormatName;
  status: 'completed' | 'skipped';
  reason?: string;
  files?: WrittenFile[];
}

export interface ExportRunResult {
  formats: FormatResult[];
  counts: { tasks: number; annotations: number };
  report: ReportJson;
  options: ExportOptions;
  io: { shards: number; bytes: number };
  /** Every key the run wrote or started writing (for cleanup after a failure). */
  written: string[];
}

/**
 * The project's parsed label config (inline or from S3). An S3 object is read again on every call
 * (label-config.ts): an upload in place takes effect at the next render of a warm container.
 */
export async function loadSchema(
  ctx: PipelineContext,
  project: ProjectConfig,
  expectedLabelConfig?: string,
): Promise<LabelSchema> {
  return (await loadLabelConfig(ctx, project, expectedLabelConfig)).schema;
}

/** The media of one export run: a new access from the context (the project's media policy). */
export function projectMedia(ctx: PipelineContext, project: ProjectConfig): MediaAccess {
  return ctx.media(project);
}

/** Which of the requested formats can be produced, and why the others cannot. */
export function planFormats(
  schema: LabelSchema,
  requested: readonly FormatName[],
): { run: FormatName[]; skipped: FormatResult[] } {
  const supported = new Set(supportedFormats(schema));
  const run: FormatName[] = [];
  const skipped: FormatResult[] = [];
  for (const f of [...new Set(requested)]) {
    if (!WRITERS[f])
      skipped.push({ format: f, status: 'skipped', reason: 'this format is not implemented yet' });
    else if (!supported.has(f))
      skipped.push({ format: f, status: 'skipped', reason: 'the label config does not support this format' });
    else run.push(f);
  }
  return { run, skipped };
}

export interface ExportRunInput {
  project: ProjectConfig;
  store: ObjectStore;
  /** Key prefix of the export, ending in `/`; each format goes to `<prefix><FORMAT>/`. */
  prefix: string;
  formats: readonly FormatName[];
  /** The clock the writers see (snapshots pass their nominal time, so bytes are reproducible). */
  now: Date;
  transform?: (task: JsonObject) => JsonObject | undefined;
  report?: Report;
  /**
   * The sink of one format's folder (`<prefix><FORMAT>/`); default: every file streamed and hashed
   * (HashingSink over StoreSink). The render passes one that writes only changed files.
   */
  sinkFor?: (format: FormatName, prefix: string, report: Report) => ExportSink;
  /** The label config digest the run must render with (LabelConfigChangedError otherwise). */
  labelConfigSha256?: string;
}

/** A format's output sink that lists the files it holds and the keys it started writing. */
export interface ExportSink extends OutputSink {
  readonly files: WrittenFile[];
  readonly opened: string[];
  /** Writes what the sink still holds (called once the writers have finished). */
  flush?(): Promise<void>;
}

export async function runProjectExport(
  ctx: PipelineContext,
  input: ExportRunInput,
): Promise<ExportRunResult> {
  const schema = await loadSchema(ctx, input.project, input.labelConfigSha256);
  const { run, skipped } = planFormats(schema, input.formats);
  const options = parseExportOptions(input.project.options);
  const report = input.report ?? new Report();
  const sinks = run.map((format) => {
    const prefix = `${input.prefix}${format}/`;
    const sink: ExportSink = input.sinkFor
      ? input.sinkFor(format, prefix, report)
      : new HashingSink(new StoreSink(input.store, prefix, { report, format }), prefix);
    return { format, sink };
  });
  const source = new StateTaskSource(ctx.store(input.project.export.bucket), projectPaths(input.project), {
    transform: input.transform,
  });
  const written = () => sinks.flatMap((s) => s.sink.opened);
  try {
    await runExport({
      source,
      schema,
      targets: sinks,
      options,
      media: projectMedia(ctx, input.project),
      report,
      now: () => input.now,
    });
    // Sinks that hold small files until the writers finish (PublishSink's holdBytes) write them now.
    for (const s of sinks) await s.sink.flush?.();
  } catch (err) {
    (err as { written?: string[] }).written = written();
    throw err;
  }
  const results: FormatResult[] = [
    ...sinks.map((s): FormatResult => ({ format: s.format, status: 'completed', files: s.sink.files })),
    ...skipped,
  ];
  return {
    formats: results,
    counts: source.counts,
    report: report.toJSON(),
    options,
    io: source.io,
    written: written(),
  };
}
