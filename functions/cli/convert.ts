/** `ls-export convert`: one input, one label config, one format, into an output folder. */
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { LabelConfigError, parseLabelConfig } from '../core/config/label-config.ts';
import type { LabelSchema } from '../core/config/schema.ts';
import { runExport } from '../core/export.ts';
import { type ExportOptions, parseExportOptions } from '../core/formats/options.ts';
import { type FormatRegistry, REGISTRY } from '../core/formats/registry.ts';
import { type HttpPolicy, parseHttpPolicy } from '../core/media-policy.ts';
import { SingleFileSource } from '../core/readers/single-file.ts';
import { Report } from '../core/report.ts';
import { FsObjectStore } from '../storage/fs.ts';
import { LocalMedia } from '../storage/media.ts';
import { StoreSink } from '../storage/sink.ts';
import { NotFoundError } from '../storage/types.ts';
import { zipFolder } from '../storage/zip.ts';
import { type ConvertArgs, UsageError } from './args.ts';
import { CliError } from './errors.ts';
import { Progress } from './progress.ts';
import { InputNotFoundError, openSource, readTextFile, s3Client } from './sources.ts';

async function loadSchema(args: ConvertArgs): Promise<LabelSchema> {
  let text: string;
  try {
    text = await readTextFile(args.config, args);
  } catch (err) {
    if (err instanceof NotFoundError || (err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CliError(`label config not found: ${args.config}`);
    }
    throw new CliError(`cannot read the label config ${args.config}: ${(err as Error).message}`);
  }
  try {
    return parseLabelConfig(text);
  } catch (err) {
    if (err instanceof LabelConfigError) throw new CliError(`${args.config}: ${err.message}`);
    throw err;
  }
}

function fixOptions(fixes: string[], registry: FormatRegistry): Record<string, boolean> {
  const known = registry.fixes();
  const out: Record<string, boolean> = {};
  for (const name of fixes.flatMap((f) => f.split(','))) {
    if (!Object.hasOwn(known, name))
      throw new UsageError(`unknown --fix "${name}" (known: ${Object.keys(known).join(', ')})`);
    out[known[name].option] = true;
  }
  return out;
}

/**
 * Converts one input into one format of `registry` (the built-in formats by default). Throws
 * UsageError for bad arguments, CliError when the export cannot run (unreadable config or input,
 * a format the config does not support or ls-export does not implement).
 */
export async function runConvert(args: ConvertArgs, registry: FormatRegistry = REGISTRY): Promise<void> {
  const format = args.format.toUpperCase();
  const plugin = registry.get(format);
  if (!plugin) throw new UsageError(`unknown format "${args.format}"`);
  const schema = await loadSchema(args);
  const supported = registry.supported(schema);
  if (!supported.includes(format)) {
    throw new CliError(
      `format ${format} is not supported by this label config (it supports: ${supported.join(', ')})`,
    );
  }
  if (!plugin.writer) {
    throw new CliError(`format ${format} is not implemented by ls-export yet (see README "Formats")`);
  }
  let options: ExportOptions;
  try {
    const input = { ...args.formatOptions, ...fixOptions(args.fix, registry) };
    options = (
      registry === REGISTRY ? parseExportOptions(input) : registry.optionsSchema().parse(input)
    ) as ExportOptions;
  } catch (err) {
    const issue = (err as { issues?: Array<{ path: unknown[]; message: string }> }).issues?.[0];
    throw new UsageError(issue ? `${issue.path.join('.')}: ${issue.message}` : (err as Error).message);
  }
  let httpPolicy: HttpPolicy;
  try {
    httpPolicy = parseHttpPolicy(args.mediaHttp);
  } catch (err) {
    throw new UsageError(`--media-http: ${(err as Error).message}`);
  }
  // Label Studio's converter finds uploads under <project_dir>/upload when no upload dir is given.
  const uploadDir = args.uploadDir ?? (args.projectDir ? join(args.projectDir, 'upload') : undefined);

  let source: Awaited<ReturnType<typeof openSource>>;
  try {
    source = await openSource(args.input, args);
  } catch (err) {
    if (err instanceof InputNotFoundError) throw new CliError(err.message);
    throw err;
  }

  // As in Label Studio's converter, a CSV/TSV output ending in `.csv` is the file itself.
  const csvFile =
    (format === 'CSV' || format === 'TSV') && args.output.endsWith('.csv') ? resolve(args.output) : undefined;
  const outDir = csvFile ? dirname(csvFile) : resolve(args.output);
  await mkdir(outDir, { recursive: true });
  if (csvFile && args.zip) throw new UsageError('--zip needs an output folder, not a .csv file');
  // With --zip the files are written to a scratch folder first, then zipped in one stream.
  const filesDir = args.zip || csvFile ? await mkdtemp(join(outDir, '.ls-export-')) : outDir;
  const report = new Report();
  const sink = new StoreSink(new FsObjectStore(filesDir), '', { report });
  const progress = new Progress(!args.quiet);
  // Task media: local files only under the folders the user gave (docs/media-policy.md).
  const media = new LocalMedia({
    uploadDir,
    mediaRoots: [...(args.projectDir ? [args.projectDir] : []), ...args.mediaRoots],
    s3: () => s3Client(args),
    http: httpPolicy,
  });

  let tasks: number | undefined;
  if (format === 'JSON' && source instanceof SingleFileSource && !source.isJsonLines) {
    // The reference copies a JSON export file byte for byte (its "file mode").
    await sink.copyFrom('result.json', await source.raw());
  } else {
    const stats = await runExport({
      source,
      schema,
      targets: [{ format, sink, writer: plugin.writer }],
      options,
      media,
      report,
      onProgress: (n) => progress.update(n),
    });
    tasks = stats.tasks;
  }
  progress.done();
  let zipName: string | undefined;
  if (args.zip) {
    zipName = `${format}.zip`;
    try {
      const left = await zipFolder(
        filesDir,
        sink.files.map((f) => f.path),
        join(outDir, zipName),
      );
      for (const s of left) report.skip({ source: `output file ${s.path}`, reason: s.reason });
    } finally {
      await rm(filesDir, { recursive: true, force: true });
    }
  }
  if (csvFile) {
    await rename(join(filesDir, 'result.csv'), csvFile);
    await rm(filesDir, { recursive: true, force: true });
  }
  const reportPath = csvFile
    ? `${csvFile.slice(0, -'.csv'.length)}.report.json`
    : resolve(outDir, 'report.json');
  await writeFile(reportPath, `${JSON.stringify(report.toJSON(), null, 2)}\n`);

  const seconds = progress.elapsedSeconds();
  const files = zipName ? 1 : sink.files.length;
  const what = tasks === undefined ? 'copied the export' : `exported ${tasks.toLocaleString('en-US')} tasks`;
  const rate =
    tasks && seconds > 0 ? ` (${Math.round(tasks / seconds).toLocaleString('en-US')} tasks/s)` : '';
  const skipped = report.skippedCount ? `; ${report.skippedCount} inputs skipped` : '; nothing skipped';
  const warned = report.warningCount ? `, ${report.warningCount} warnings` : '';
  if (!args.quiet) {
    process.stderr.write(
      `ls-export: ${what} as ${format} into ${zipName ? join(args.output, zipName) : args.output} (${files} file${files === 1 ? '' : 's'}) in ${seconds.toFixed(1)} s${rate}${skipped}${warned} — see ${basename(reportPath)}\n`,
    );
  }
}
